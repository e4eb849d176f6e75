import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

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

/** Called with every DynamoDB client created here, before its first command. */
export type ClientHook = (client: DynamoDBClient) => void;
const hooks = new Set<ClientHook>();

/**
 * Lets a runtime add middleware to every client created after this call (the local runtime's
 * permission guard, local/permission-guard.ts). Nothing registers one in AWS. Returns the removal.
 */
export function onClientCreated(hook: ClientHook): () => void {
  hooks.add(hook);
  return () => void hooks.delete(hook);
}

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
  for (const hook of hooks) hook(client);
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/** Is this the error DynamoDB raises when a ConditionExpression is false? */
export const isConditionFailed = (error: unknown): boolean =>
  error instanceof Error && error.name === "ConditionalCheckFailedException";

/**
 * The item as it was when a condition failed (a write sent with ReturnValuesOnConditionCheckFailure
 * ALL_OLD), as plain values; undefined if the item did not exist. The document client does not
 * unmarshall it on the error.
 */
export function conditionFailedItem(error: unknown): Record<string, unknown> | undefined {
  const item = (error as { Item?: Record<string, AttributeValue> } | undefined)?.Item;
  return item ? unmarshall(item) : undefined;
}
