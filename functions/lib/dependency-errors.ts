import { type DomainError, unavailable } from "../../core/errors";

/**
 * Which errors of the platform's dependencies (DynamoDB and the other AWS services, through the AWS
 * SDK) mean "not available right now, retry shortly" rather than a bug: the answer is then 503 with
 * Retry-After, not a 500. The SDK has already retried them (bounded: core/db/client.ts), so the
 * caller gets a quick, honest answer while the dependency recovers (DynamoDB Local restarting,
 * throttling, a DynamoDB 5xx). Shapes follow the SDK's own classification
 * (@smithy/service-error-classification), matched by name and code so that no SDK type leaks here.
 */

/** Node.js socket errors: the endpoint refused, dropped or did not answer the connection. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);
/** The SDK's names for a request that timed out. */
const TIMEOUT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
/** Throttling, as the SDK classifies it (DynamoDB: provisioned throughput, request limits). */
const THROTTLING_NAMES = new Set([
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "LimitExceededException",
  "TransactionInProgressException",
]);
/** A service's own failure (HTTP 5xx names). */
const SERVER_NAMES = new Set(["InternalServerError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException"]);
/** Reasons a DynamoDB transaction was cancelled that are the service's, not the request's. */
const TRANSIENT_CANCELLATION = new Set(["ThrottlingError", "ProvisionedThroughputExceeded"]);

interface SdkLikeError {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
  CancellationReasons?: { Code?: string }[];
}

export type DependencyFailureKind = "network" | "timeout" | "throttled" | "server";

/** How a dependency failed, or null when the error is not one of a dependency's transient failures. */
export function classifyDependencyError(error: unknown, depth = 0): DependencyFailureKind | null {
  if (error === null || typeof error !== "object" || depth > 5) return null;
  const e = error as SdkLikeError;
  const name = typeof e.name === "string" ? e.name : "";
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return e.code === "ETIMEDOUT" ? "timeout" : "network";
  if (TIMEOUT_NAMES.has(name)) return "timeout";
  if (THROTTLING_NAMES.has(name) || e.$metadata?.httpStatusCode === 429 || e.$retryable?.throttling === true) return "throttled";
  if (name === "TransactionCanceledException" && (e.CancellationReasons ?? []).some((r) => TRANSIENT_CANCELLATION.has(r.Code ?? ""))) return "throttled";
  if (SERVER_NAMES.has(name) || (e.$metadata?.httpStatusCode ?? 0) >= 500) return "server";
  return classifyDependencyError(e.cause, depth + 1);
}

const DETAIL: Record<DependencyFailureKind, string> = {
  network: "The database cannot be reached right now. Retry shortly.",
  timeout: "The database did not answer in time. Retry shortly.",
  throttled: "The database is throttling requests right now. Retry shortly.",
  server: "The database failed to serve the request. Retry shortly.",
};

/**
 * The `unavailable` domain error (503, Retry-After) for a dependency's transient failure, or undefined
 * for anything else (which stays an unexpected error: a logged, plain 500).
 */
export function dependencyFailure(error: unknown): DomainError | undefined {
  const kind = classifyDependencyError(error);
  if (!kind) return undefined;
  // A restarting DynamoDB Local answers again within seconds; throttling clears within a second.
  return unavailable(DETAIL[kind], kind === "throttled" ? 1 : 2, "service_unavailable");
}
