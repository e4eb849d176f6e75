import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { invalidInput } from "../errors";

export interface ClientOptions {
  /** Endpoint override, for DynamoDB Local. Unset in AWS. */
  endpoint?: string;
  region?: string;
}

/** A document client with the marshalling options every repository relies on. */
export function createDocumentClient(options: ClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.region ? { region: options.region } : {}),
  });
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
