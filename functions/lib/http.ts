import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { z } from "zod";
import { DomainError, type FieldError, forbidden, invalidInput, notFound } from "../../core/errors";
import { findIllFormedText } from "../../core/shared/text";
import type { Principal } from "../../core/auth/principal";
import type { LimitState } from "../../core/ratelimit/limiter";
import type { Organization } from "../../core/tenants/organization.schema";
import type { HttpRouteSpec } from "../manifest.types";
import { deadlineOf, type InvocationContext } from "./invocation";
import { fieldErrorsOf } from "./field-errors";
import { logger } from "./logger";
import { problemResponse } from "./problem";
import { rateLimitHeaders, statesOf } from "./rate-limit-headers";
import { access } from "./services/access";

/** Largest request body accepted (bytes, after base64 decoding). */
export const MAX_BODY_BYTES = 256 * 1024;

type Infer<S, Fallback> = S extends z.ZodType ? z.output<S> : Fallback;

export interface Request<R extends HttpRouteSpec> {
  params: Infer<R["params"], Record<string, never>>;
  query: Infer<R["query"], Record<string, never>>;
  body: Infer<R["body"], undefined>;
  /** The caller; the operator for `public` routes is never assumed: they get `undefined`. */
  principal: R["auth"] extends "public" ? undefined : Principal;
  /**
   * The caller's organization as authentication read it (at most CREDENTIAL_CHECK_TTL_MS old), for an
   * organization key; undefined for the operator and public routes. Logic that needs the organization's
   * tier, quotas or limits takes it from here instead of reading it again.
   */
  org: Organization | undefined;
  requestId: string;
  event: APIGatewayProxyEventV2;
  /**
   * The rate limits the request was admitted under (none for public routes and the operator), reported
   * in the response's RateLimit headers. Logic that applies more limits (chat completions) adds theirs.
   */
  rateLimits: LimitState[];
  /**
   * When the function's invocation ends (epoch ms, from its context): model calls must be over before
   * it. Undefined when the handler was called without a context.
   */
  deadline?: number;
}

/** A reply other than the route's declared status and JSON body. */
export class Reply {
  constructor(
    readonly statusCode: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

type Handler = (event: APIGatewayProxyEventV2, context?: InvocationContext) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Wraps a route's logic into a Lambda handler for API Gateway HTTP API (payload 2.0): `prepare`, then
 * the logic; domain errors become problem+json with the status of their kind, anything else a logged,
 * plain 500.
 */
export function http<R extends HttpRouteSpec>(
  route: R,
  logic: (request: Request<R>) => Promise<unknown> | unknown,
): Handler {
  return async (event, context) => {
    const requestId = event.requestContext?.requestId ?? "unknown";
    logger.appendKeys({ requestId, route: `${route.method} ${route.path}` });
    const rateLimits: LimitState[] = [];
    const deadline = deadlineOf(context);
    try {
      const request = await prepare(route, event, rateLimits, deadline);
      const result = await logic(request);
      const reply = result instanceof Reply ? result : new Reply(route.response.status, result);
      logger.info("request", { status: reply.statusCode, method: route.method, path: event.rawPath });
      const empty = reply.body === undefined;
      return {
        statusCode: reply.statusCode,
        headers: {
          ...(empty ? {} : { "content-type": "application/json" }),
          "x-request-id": requestId,
          ...rateLimitHeaders(rateLimits),
          ...reply.headers,
        },
        body: empty ? "" : JSON.stringify(reply.body),
      };
    } catch (error) {
      return fail(error, requestId, event.rawPath, rateLimits, route.openai === true);
    } finally {
      logger.removeKeys(["requestId", "route"]);
    }
  };
}

/**
 * Everything a route needs before its logic runs: authentication at the route's level first (an
 * unauthenticated caller gets 401 and learns nothing about the route's schema or its ids), then the
 * caller's rate limits (429 before any work: malformed requests count too, they cost as much to
 * refuse), then body size and JSON parsing, and zod validation of path, query and body (offending
 * fields listed). This runs for streaming routes too, so the function URLs are limited like the API.
 *
 * The limits the request was admitted under are pushed onto `rateLimits` (the request's own list) as
 * soon as they are known, so a request refused after admission still reports them.
 */
export async function prepare<R extends HttpRouteSpec>(
  route: R,
  event: APIGatewayProxyEventV2,
  rateLimits: LimitState[] = [],
  deadline?: number,
): Promise<Request<R>> {
  const requestId = event.requestContext?.requestId ?? "unknown";
  const identified = route.auth === "public" ? undefined : await authenticate(route, event);
  const principal = identified?.principal;
  if (identified) rateLimits.push(...(await access().rateLimits.admitRequest(identified.principal, identified.org)));
  assertText(event.pathParameters, "path");
  assertText(event.queryStringParameters, "query");
  const params = parseParams(route, event);
  const query = parse(route.query, event.queryStringParameters ?? {}, "query");
  const body = route.body ? parse(route.body, readJson(event), "body") : undefined;
  return { params, query, body, principal, org: identified?.org, requestId, event, rateLimits, ...(deadline !== undefined ? { deadline } : {}) } as Request<R>;
}

/**
 * Logs and turns any error into a problem response, with the RateLimit headers of the limits the
 * request went through (and of the one that refused it). Used by every wrapper.
 */
export function fail(
  error: unknown,
  requestId: string,
  instance?: string,
  rateLimits: readonly LimitState[] = [],
  openai = false,
): APIGatewayProxyStructuredResultV2 & { statusCode: number } {
  const response = problemResponse(error, requestId, instance, { openai });
  if (response.statusCode >= 500) logger.error("request failed", { error: error as Error, status: response.statusCode });
  else logger.info("request refused", { status: response.statusCode, code: (error as DomainError).code });
  response.headers = { ...response.headers, ...rateLimitHeaders(statesOf(rateLimits, error)) };
  return response;
}

async function authenticate(route: HttpRouteSpec, event: APIGatewayProxyEventV2) {
  const identified = await access().identify(event.headers?.authorization);
  if (route.auth === "operator" && identified.principal.kind !== "operator") {
    throw forbidden("This operation needs the platform operator key.", "operator_only");
  }
  return identified;
}

function parseParams(route: HttpRouteSpec, event: APIGatewayProxyEventV2) {
  if (!route.params) return {};
  const result = route.params.safeParse(event.pathParameters ?? {});
  // A path id that cannot exist is simply not found (and says nothing about other tenants' ids).
  if (!result.success) throw notFound("Resource", event.rawPath);
  return result.data;
}

function readJson(event: APIGatewayProxyEventV2): unknown {
  const raw = event.body ?? "";
  const bytes = event.isBase64Encoded ? Buffer.from(raw, "base64") : Buffer.from(raw, "utf8");
  if (bytes.length > MAX_BODY_BYTES) {
    throw new DomainError("payload_too_large", "payload_too_large", `The request body exceeds ${MAX_BODY_BYTES} bytes.`, {
      limit: MAX_BODY_BYTES,
    });
  }
  const contentType = (event.headers?.["content-type"] ?? "").toLowerCase();
  if (bytes.length > 0 && contentType && !/^application\/([\w.+-]+\+)?json\b/.test(contentType)) {
    throw new DomainError("unsupported_media_type", "unsupported_media_type", "The request body must be JSON: send it with Content-Type: application/json.");
  }
  if (bytes.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch (error) {
    throw invalidInput(`The request body is not valid JSON: ${(error as Error).message}`, [], "malformed_json");
  }
  assertText(value, "body");
  return value;
}

/** Every string of a request part is well-formed Unicode without NUL (core/shared/text.ts says why). */
function assertText(value: unknown, where: "body" | "query" | "path"): void {
  const found = findIllFormedText(value);
  if (found) throw invalidInput(`The request ${where} holds text that is not accepted: ${found.field} ${found.message}.`, [{ ...found, in: where } as FieldError], "invalid_text");
}

function parse(schema: z.ZodType | undefined, value: unknown, where: "body" | "query"): unknown {
  if (!schema) return where === "query" ? {} : undefined;
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const errors: (FieldError & { in: string })[] = fieldErrorsOf(result.error).map((error) => ({ field: error.field, in: where, message: error.message }));
  throw invalidInput(`The request ${where} is invalid: ${errors.map((e) => e.field).join(", ")}.`, errors);
}
