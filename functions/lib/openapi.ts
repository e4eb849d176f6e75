import { OpenAPIRegistry, OpenApiGeneratorV31 } from "@asteasolutions/zod-to-openapi";
import { z } from "../../core/shared/zod";
import { functionTimeoutSeconds, type HttpRouteSpec } from "../manifest.types";
import { http, wsRoutes } from "../routes";

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

const OpenAiProblem = Problem.extend({
  error: z
    .object({
      message: z.string(),
      type: z.string().meta({ description: "invalid_request_error, insufficient_quota, requests, tokens or server_error" }),
      param: z.string().nullable(),
      code: z.string().meta({ description: "OpenAI's code where OpenAI has one (invalid_api_key, model_not_found, insufficient_quota, rate_limit_exceeded), else ours" }),
    })
    .meta({ description: "OpenAI's error object, for OpenAI's SDKs" }),
}).meta({ id: "OpenAiProblem", description: "RFC 9457 problem details with OpenAI's error object beside them (OpenAI-compatible routes)" });

const problemResponse = (description: string, openai = false) => ({
  description,
  content: { "application/problem+json": { schema: openai ? OpenAiProblem : Problem } },
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

/**
 * A route's answers: its own (JSON, or the media type it declares; a streaming route's
 * `text/event-stream` beside its JSON), then the errors it can give, each where it happens: input
 * (400), keys (401, 403, 429), path ids (404), a body (413, 415), the route's own (`errors`: 404, 409,
 * 502, 504), the table (503), and 500. OpenAI-compatible routes' errors carry OpenAI's object too.
 */
function responsesOf(route: HttpRouteSpec): Record<string, unknown> {
  const media = route.response.contentType ?? "application/json";
  const content: Record<string, unknown> = {};
  if (route.response.schema || route.response.contentType) {
    content[media] = route.response.schema ? { schema: route.response.schema } : { schema: { type: "string" } };
  }
  if (route.streaming && media === "application/json") {
    content["text/event-stream"] = {
      schema: { type: "string", description: "Server-Sent Events (`data: <JSON chunk>` lines, then `data: [DONE]`)" },
    };
  }
  const responses: Record<string, unknown> = {
    [route.response.status]: Object.keys(content).length ? { description: route.response.description, content } : { description: route.response.description },
  };
  const openai = route.openai === true;
  const problem = (description: string) => problemResponse(description, openai);
  if (route.params || route.query || route.body) responses[400] = problem("Invalid request (`validation_failed`, `malformed_json`, ...; the offending fields in `errors`)");
  if (route.auth !== "public") {
    responses[401] = problem("Missing or invalid API key");
    responses[403] = problem("The key may not do this");
    responses[429] = { ...problem("Over a rate limit (`rate_limited`) or a quota (`budget_exceeded`, ...)"), headers: RATE_LIMIT_HEADERS };
  }
  if (route.params) responses[404] = problem("Not found (also for other organizations' ids)");
  if (route.body) {
    responses[413] = problem("The body is larger than 256 KiB (`payload_too_large`)");
    responses[415] = problem("The body is not JSON (`unsupported_media_type`)");
  }
  for (const error of route.errors ?? []) {
    const earlier = responses[error.status] as { description: string } | undefined;
    responses[error.status] = problem(earlier ? `${earlier.description}; or: ${error.description}` : error.description);
  }
  responses[500] = problem("Unexpected error");
  if (route.permissions.some((p) => p.startsWith("table:")) || route.auth !== "public") {
    responses[503] = problem("The database is unavailable or throttling right now: retry after Retry-After seconds");
  }
  for (const extra of route.extraResponses ?? []) {
    responses[extra.status] = extra.schema
      ? { description: extra.description, content: { "application/json": { schema: extra.schema } } }
      : { description: extra.description };
  }
  return responses;
}

/** The OpenAPI 3.1 document, generated from the route manifest and its zod schemas; each operation's id is its manifest name. */
export function openApiDocument() {
  const registry = new OpenAPIRegistry();
  registry.registerComponent("securitySchemes", "apiKey", {
    type: "http",
    scheme: "bearer",
    description: "An organization API key (`ao_...`) or the platform operator key",
  });

  for (const [operationId, route] of Object.entries(http) as [string, HttpRouteSpec][]) {
    registry.registerPath({
      method: route.method.toLowerCase() as "get",
      path: route.path,
      operationId,
      summary: route.summary,
      tags: route.tags,
      ...(route.auth === "public" ? {} : { security: [{ apiKey: [] }] }),
      description: route.streaming ? `Auth: ${route.auth}. ${streamingLimit(route)}` : `Auth: ${route.auth}.`,
      request: {
        ...(route.params ? { params: route.params } : {}),
        ...(route.query ? { query: route.query } : {}),
        ...(route.body ? { body: { content: { "application/json": { schema: route.body } }, required: true } } : {}),
      },
      responses: responsesOf(route) as never,
    });
  }

  const generator = new OpenApiGeneratorV31(registry.definitions);
  const document = generator.generateDocument({
    openapi: "3.1.0",
    info: {
      title: "agentorg API",
      version: "1.0.0",
      description:
        "Multi-tenant AI agent organizations. Errors are application/problem+json with a stable `code`; on the " +
        "OpenAI-compatible routes (chat completions, models) they also carry OpenAI's `error` object. " +
        `WebSocket routes (action field): ${wsRoutes.map((r) => r.routeKey).join(", ")}.`,
    },
    servers: [{ url: "/" }],
  });
  return document;
}
