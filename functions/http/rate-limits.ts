import { http } from "../lib/http";
import { access } from "../lib/services/access";
import { rateLimitRoutes as routes } from "../manifest/rate-limits";

const limits = () => access().rateLimits;

export const get = http(routes.getRateLimits, ({ principal, params }) => limits().settings(principal, params.id));
export const put = http(routes.putRateLimits, ({ principal, params, body }) => limits().setOverride(principal, params.id, body));
