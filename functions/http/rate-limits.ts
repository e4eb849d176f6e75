import { http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

const limits = () => services().rateLimits;

export const get = http(routes.http.getRateLimits, ({ principal, params }) => limits().settings(principal, params.id));
export const put = http(routes.http.putRateLimits, ({ principal, params, body }) => limits().setOverride(principal, params.id, body));
