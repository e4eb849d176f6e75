/**
 * Typed domain errors. Each carries a stable machine-readable `code` (part of the public API: clients
 * switch on it) and a `kind`; only the HTTP edge (functions/lib/problem.ts) maps kinds to statuses.
 */
export type ErrorKind =
  | "invalid_input"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "quota_exceeded"
  | "rate_limited"
  | "payload_too_large"
  | "unsupported_media_type"
  | "method_not_allowed"
  | "upstream_failed"
  | "upstream_timeout"
  | "unavailable";

/** One offending field of a request, named by its path (`tier`, `quotas.agents`). */
export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    /** Extra members for the problem document (`errors`, `limit`, `resetsAt`, `allowed`, ...). */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const invalidInput = (message: string, errors: FieldError[] = [], code = "validation_failed") =>
  new DomainError("invalid_input", code, message, errors.length ? { errors } : {});

export const unauthorized = (message = "A valid API key is required (Authorization: Bearer <key>).", code = "unauthorized") =>
  new DomainError("unauthorized", code, message);

export const forbidden = (message: string, code = "forbidden", details: Record<string, unknown> = {}) =>
  new DomainError("forbidden", code, message, details);

/** Not found, and also the answer for another tenant's ids: isolation never reveals existence. */
export const notFound = (what: string, id?: string) =>
  new DomainError("not_found", "not_found", id ? `${what} '${id}' was not found.` : `${what} was not found.`);

export const conflict = (message: string, code = "conflict", details: Record<string, unknown> = {}) =>
  new DomainError("conflict", code, message, details);

export const quotaExceeded = (message: string, code: string, details: Record<string, unknown>) =>
  new DomainError("quota_exceeded", code, message, details);

/** Too many requests for a rate limit; `retryAfterSeconds` says when the next one can pass. */
export const rateLimited = (message: string, details: Record<string, unknown> & { retryAfterSeconds: number }, code = "rate_limited") =>
  new DomainError("rate_limited", code, message, details);

/**
 * A dependency (the database, a queue) cannot be reached right now: 503, and the client may retry after
 * `retryAfterSeconds`. Never used for a fault of the request itself.
 */
export const unavailable = (message: string, retryAfterSeconds = 1, code = "service_unavailable") =>
  new DomainError("unavailable", code, message, { retryAfterSeconds });

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;
