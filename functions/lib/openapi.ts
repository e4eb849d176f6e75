import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "../../core/shared/zod";
import { functionTimeoutSeconds, type HttpRouteSpec } from "../manifest.types";
import { httpRoutes, wsRoutes } from "../routes";

const Problem = z
  .object({
    type: z.string().meta({ example: "urn:agentorg:problem:validation_failed" }),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ description: "Stable machine-readable error code" }),
    detail: z.string(),
    instance: z.string().optional(),
    requestId: z.string(),
    errors: z
      .array(z.object({ field: z.string(), in: z.string().optional(), message: z.string() }))
      .optional()
      .meta({ description: "For validation errors: each offending field" }),
  })
  .meta({ id: "Problem", description: "RFC 9457 problem details" });

const problemResponse = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: Problem } },
});

/** Sent with a 429 (and, but for Retry-After, with every response to an organization key): docs/rate-limiting.md. */
const RATE_LIMIT_HEADERS = {
  "Retry-After": { description: "Seconds until this request would pass", schema: { type: "integer" } },
  RateLimit: {
    description: 'Per policy: units left (r) and seconds until one more is back (t), e.g. `"api-key";r=0;t=1`',
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'Per policy: bucket size (q) and seconds to refill it (w), e.g. `"api-key";q=100;w=10`',
    schema: { type: "string" },
  },
};

/** The OpenAPI 3.1 document, generated from the route manifest and its zod schemas. */
/**
 * What a streaming route's clients must know about its limit (docs/deadlines.md): its function runs at
 * most `functionTimeoutSeconds`, and what happens there (the route's `atLimit`).
 */
export function streamingLimit(route: HttpRouteSpec): string {
  const minutes = functionTimeoutSeconds(route) / 60;
  return (
    `Streams for at most ${minutes} minutes, its function's time limit (in AWS through its function URL; through the API's base URL ` +
    `the answer is buffered and API Gateway gives up at 30 seconds).${route.atLimit ? ` ${route.atLimit}` : ""}`
  );
}

export function openApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "An organization API key (`ao_...`) or the platform operator key",
  });

  for (const route of httpRoutes) {
    const responses: Record<string, unknown> = {
      [route.response.status]: route.response.schema
        ? { description: route.response.description, content: { "application/json": { schema: route.response.schema } } }
        : { description: route.response.description },
    };
    if (route.params || route.query || route.body) responses[400] = problemResponse("Invalid request");
    if (route.auth !== "public") {
      responses[401] = problemResponse("Missing or invalid API key");
      responses[403] = problemResponse("The key may not do this");
      responses[429] = { ...problemResponse("Over a rate limit (`rate_limited`) or a quota"), headers: RATE_LIMIT_HEADERS };
    }
    if (route.params) responses[404] = problemResponse("Not found (also for other organizations' ids)");
    responses[500] = problemResponse("Unexpected error");
    if (route.permissions.some((p) => p.startsWith("table:"))) {
      responses[503] = problemResponse("The database is unavailable or throttling right now: retry after Retry-After seconds");
    }
    for (const extra of route.extraResponses ?? []) {
      responses[extra.status] = extra.schema
        ? { description: extra.description, content: { "application/json": { schema: extra.schema } } }
        : { description: extra.description };
    }

    registry.registerPath({
      method: route.method.toLowerCase() as "get",
      path: route.path,
      summary: route.summary,
      tags: route.tags,
      ...(route.auth === "public" ? {} : { security: [{ apiKey: [] }] }),
      description: route.streaming ? `Auth: ${route.auth}. ${streamingLimit(route)}` : `Auth: ${route.auth}.`,
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body ? { body: { content: { "application/json": { schema: route.body } }, required: true } } : {}),
      },
      responses: responses as never,
    });
  }

  const generator = new OpenApiGeneratorV31(registry.definitions);
  const document = generator.generateDocument({
    openapi: "3.1.0",
    info: {
      title: "agentorg API",
      version: "1.0.0",
      description:
        "Multi-tenant AI agent organizations. Errors are application/problem+json with a stable `code`. " +
        `WebSocket routes (action field): ${wsRoutes.map((r) => r.routeKey).join(", ")}.`,
    },
    servers: [{ url: "/" }],
  });
  return document;
}
