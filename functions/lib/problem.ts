import type { APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { type DomainError, type ErrorKind, isDomainError } from "../../core/errors";
import { dependencyFailure } from "./dependency-errors";

/** The one table from error kinds to HTTP statuses. */
const STATUS: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  quota_exceeded: 429,
  rate_limited: 429,
  upstream_failed: 502,
  upstream_timeout: 504,
  unavailable: 503,
};

const TITLE: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  instance?: string;
  requestId: string;
  [member: string]: unknown;
}

export const statusOf = (error: DomainError): number => STATUS[error.kind];

/**
 * An RFC 9457 problem document. `type` is a URN: stable, and not pretending to be a web page. A
 * dependency's transient failure (database unreachable, timed out, throttled, 5xx) is the
 * `unavailable` kind: 503 with Retry-After, for every wrapper (HTTP, streaming, WebSocket) alike.
 */
export function problemOf(thrown: unknown, requestId: string, instance?: string): ProblemDocument {
  const error = isDomainError(thrown) ? thrown : (dependencyFailure(thrown) ?? thrown);
  if (isDomainError(error)) {
    const status = statusOf(error);
    return {
      type: `urn:agentorg:problem:${error.code}`,
      title: TITLE[status] ?? "Error",
      status,
      code: error.code,
      detail: error.message,
      ...(instance ? { instance } : {}),
      requestId,
      ...error.details,
    };
  }
  // Anything unexpected: logged by the caller with the request id; the client learns nothing internal.
  return {
    type: "urn:agentorg:problem:internal_error",
    title: TITLE[500]!,
    status: 500,
    code: "internal_error",
    detail: `An unexpected error occurred. Quote request id ${requestId} when reporting it.`,
    ...(instance ? { instance } : {}),
    requestId,
  };
}

/** OpenAI's error object (`{"error": {...}}`), which its SDKs read into `e.error`, `e.code`, `e.type`, `e.param`. */
export interface OpenAiError {
  message: string;
  type: string;
  param: string | null;
  code: string;
}

/**
 * Our codes that OpenAI's clients know by OpenAI's name and act on (LangChain stops retrying on
 * `insufficient_quota`, for instance). Every other code keeps ours; the problem's own `code` never changes.
 */
const OPENAI_CODES: Record<string, string> = {
  unauthorized: "invalid_api_key",
  invalid_api_key: "invalid_api_key",
  unknown_model: "model_not_found",
  budget_exceeded: "insufficient_quota",
  key_budget_exceeded: "insufficient_quota",
  rate_limited: "rate_limit_exceeded",
};

/**
 * The problem as OpenAI's error object: the detail is the message; the type is OpenAI's
 * (`invalid_request_error` for a client error, 401 included, as OpenAI answers a bad key;
 * `insufficient_quota` for a spent budget; `requests` or `tokens` for a rate limit, by the policy;
 * `server_error` for 5xx); `param` names the first offending field.
 */
export function openAiErrorOf(problem: ProblemDocument): OpenAiError {
  const code = OPENAI_CODES[problem.code] ?? problem.code;
  let type = "invalid_request_error";
  if (problem.status >= 500) type = "server_error";
  else if (code === "insufficient_quota") type = "insufficient_quota";
  else if (problem.status === 429) type = typeof problem.policy === "string" && /token/i.test(problem.policy) ? "tokens" : "requests";
  const errors = Array.isArray(problem.errors) ? (problem.errors as { field?: unknown }[]) : [];
  const field = errors.find((e) => typeof e.field === "string" && e.field !== "(root)")?.field;
  return { message: problem.detail, type, param: typeof field === "string" ? field : null, code };
}

/**
 * A problem response. `openai`: the route is OpenAI-compatible (manifest `openai: true`), so the
 * document also carries OpenAI's `error` member; it stays application/problem+json, which both
 * official SDKs parse (they read any error body as JSON, whatever its media type: docs/openai-compatibility.md).
 */
export function problemResponse(
  error: unknown,
  requestId: string,
  instance?: string,
  options: { openai?: boolean } = {},
): APIGatewayProxyStructuredResultV2 & { statusCode: number } {
  const problem = problemOf(error, requestId, instance);
  if (options.openai) problem.error = openAiErrorOf(problem);
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    "x-request-id": requestId,
  };
  if (problem.status === 401) headers["www-authenticate"] = 'Bearer realm="agentorg"';
  if (problem.status === 405 && Array.isArray(problem.allowed)) headers.allow = problem.allowed.join(", ");
  if (typeof problem.retryAfterSeconds === "number" && Number.isFinite(problem.retryAfterSeconds)) {
    headers["retry-after"] = String(Math.max(1, Math.ceil(problem.retryAfterSeconds)));
  } else if (problem.status === 429 && typeof problem.resetsAt === "string") {
    const seconds = Math.max(1, Math.ceil((Date.parse(problem.resetsAt) - Date.now()) / 1000));
    headers["retry-after"] = String(seconds);
  }
  return { statusCode: problem.status, headers, body: JSON.stringify(problem) };
}
