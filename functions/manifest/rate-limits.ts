import { RateLimitOverride, RateLimitSettings } from "../../core/ratelimit/rate-limit.schema";
import { httpRoute } from "../manifest.types";
import { IdParams } from "./common";

export const rateLimitRoutes = {
  getRateLimits: httpRoute({
    method: "GET",
    path: "/api/v1/organizations/{id}/rate-limits",
    handler: "functions/http/rate-limits.get",
    auth: "key",
    summary: "An organization's rate limits: the tier's defaults, the operator's override and the limits in force",
    tags: ["organizations"],
    params: IdParams,
    response: { status: 200, description: "The organization's rate limits", schema: RateLimitSettings },
    permissions: ["table:read"],
  }),
  putRateLimits: httpRoute({
    method: "PUT",
    path: "/api/v1/organizations/{id}/rate-limits",
    handler: "functions/http/rate-limits.put",
    // Operator only, enforced in core after the visibility check: another tenant's id is 404, its own 403.
    auth: "key",
    summary: "Operator: override any of the organization's rate limits (the rest follow its tier); {} removes the override",
    tags: ["organizations"],
    params: IdParams,
    body: RateLimitOverride,
    response: { status: 200, description: "The organization's rate limits, now in force", schema: RateLimitSettings },
    permissions: ["table:write"],
  }),
} as const;
