import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";

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
