import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { invalidInput } from "../errors";

export interface ClientOptions {
  /** Endpoint override, for DynamoDB Local. Unset in AWS. */
  endpoint?: string;
  region?: string;
  /** Overrides of DYNAMODB_TIMEOUTS (tests, tools that may wait longer). */
  timeouts?: Partial<Record<keyof typeof DYNAMODB_TIMEOUTS, number>>;
}

/**
 * How long a request may wait on DynamoDB. A database that is down (DynamoDB Local restarting, a
 * network fault) must cost a request about a second, not the function's whole timeout: connecting
 * is given 1 s, a silent socket 5 s, and the SDK's standard retries (3 attempts, jittered backoff)
 * stay bounded. The HTTP edge then answers 503 with Retry-After (functions/lib/dependency-errors.ts).
 */
export const DYNAMODB_TIMEOUTS = { connectionTimeoutMs: 1_000, requestTimeoutMs: 5_000, maxAttempts: 3 } as const;

/** A document client with the marshalling options every repository relies on. */
export function createDocumentClient(options: ClientOptions = {}): DynamoDBDocumentClient {
  const timeouts = { ...DYNAMODB_TIMEOUTS, ...options.timeouts };
  const client = new DynamoDBClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
    maxAttempts: timeouts.maxAttempts,
    // Without throwOnRequestTimeout the handler only logs a warning and the request hangs on.
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs,
      requestTimeout: timeouts.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
  });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Is this the error DynamoDB raises when a ConditionExpression is false? */
export const isConditionFailed = (error: unknown): boolean =>
  error instanceof Error && error.name === "ConditionalCheckFailedException";

/** Opaque pagination cursor from a LastEvaluatedKey (base64url JSON) and back. */
export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString("base64url") : undefined;

/**
 * Decode a cursor we issued. `expected` pins the partition attributes to the partition being queried,
 * so a forged cursor cannot start a query inside another tenant's partition (and a garbled one is a
 * 400, not a DynamoDB ValidationException surfacing as a 500).
 */
export function decodeCursor(
  cursor: string | undefined,
  expected: Record<string, string>,
): Record<string, unknown> | undefined {
  if (!cursor) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  const valid =
    value !== null &&
    typeof value === "object" &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string") &&
    Object.entries(expected).every(([name, v]) => (value as Record<string, unknown>)[name] === v);
  if (!valid) throw invalidInput("The cursor is not valid.", [{ field: "cursor", message: "not a cursor issued by this API" }], "invalid_cursor");
  return value as Record<string, unknown>;
}
