import { http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

export const create = http(routes.http.createWsToken, ({ principal }) => services().wsTokens.issue(principal));
