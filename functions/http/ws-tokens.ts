import { http } from "../lib/http";
import { wsTokens } from "../lib/services/tenants";
import { agentRoutes as routes } from "../manifest/agents";

export const create = http(routes.createWsToken, ({ principal }) => wsTokens().issue(principal));
