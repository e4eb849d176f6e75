import { z } from "../../core/shared/zod";
import { httpRoute } from "../manifest.types";

export const Health = z
  .object({ status: z.literal("ok"), service: z.string(), version: z.string(), time: z.string() })
  .meta({ id: "Health" });

export const platformRoutes = {
  health: httpRoute({
    method: "GET",
    path: "/api/v1/health",
    handler: "functions/http/health.handler",
    auth: "public",
    summary: "Liveness: the API answers",
    tags: ["platform"],
    response: { status: 200, description: "The API is up", schema: Health },
    permissions: [],
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
