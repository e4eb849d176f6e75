import { z } from "../../core/shared/zod";
import { httpRoute } from "../manifest.types";

const DependencyHealth = z
  .object({
    name: z.string().meta({ description: "dynamodb; locally also dynamodb-local (the process) and stream-poller" }),
    status: z.enum(["up", "degraded", "down"]),
    latencyMs: z.number(),
    detail: z.string().optional(),
    info: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: "DependencyHealth" });

export const Health = z
  .object({
    status: z.enum(["ok", "degraded", "down"]).meta({ description: "down (HTTP 503) when any dependency is down" }),
    service: z.string(),
    version: z.string(),
    time: z.string(),
    dependencies: z.array(DependencyHealth),
  })
  .meta({ id: "Health" });

export const platformRoutes = {
  health: httpRoute({
    method: "GET",
    path: "/api/v1/health",
    handler: "functions/http/health.handler",
    auth: "public",
    summary: "Health: each dependency with its status and latency",
    tags: ["platform"],
    response: { status: 200, description: "Nothing is down (status ok, or degraded with details)", schema: Health },
    extraResponses: [{ status: 503, description: "A dependency is down: the same JSON body, with Retry-After", schema: Health }],
    // One read of a key that holds nothing proves the table answers.
    permissions: ["table:read"],
  }),
  openapi: httpRoute({
    method: "GET",
    path: "/api/v1/openapi.json",
    handler: "functions/http/openapi.handler",
    auth: "public",
    summary: "This OpenAPI 3.1 document",
    tags: ["platform"],
    response: { status: 200, description: "OpenAPI 3.1 document" },
    permissions: [],
  }),

} as const;

/** Catch-all: unknown routes get a problem+json 404 (or 405) instead of API Gateway's own body. */
export const fallback = {
  handler: "functions/http/not-found.handler",
  permissions: [] as const,
};
