import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * The one table's definition, shared by the Storage stack (stacks/storage.ts) and the local runtime
 * (local/dynamodb.ts), so the deployed table and the emulated one cannot drift apart.
 *
 * Generic key attributes: every access pattern is expressed through `pk`/`sk` and `gsi1pk`/`gsi1sk`
 * (see core/db/keys.ts for the shapes). `ttl` expires noise items (WebSocket connections, rate windows).
 */
export const TABLE_DEFINITION = {
  partitionKey: "pk",
  sortKey: "sk",
  globalIndexes: {
    /** Secondary lookups: all organizations (operator), connection by id, ... */
    gsi1: { partitionKey: "gsi1pk", sortKey: "gsi1sk" },
  },
  ttlAttribute: "ttl",
  stream: "NEW_AND_OLD_IMAGES",
} as const;

export type IndexName = keyof typeof TABLE_DEFINITION.globalIndexes;

/** The CreateTable request for DynamoDB Local (on-demand billing, stream on, like the stack). */
export function createTableInput(tableName: string): CreateTableCommandInput {
  const { partitionKey, sortKey, globalIndexes } = TABLE_DEFINITION;
  const attributes = new Set<string>([partitionKey, sortKey]);
  for (const index of Object.values(globalIndexes)) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: "PAY_PER_REQUEST",
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: "S" })),
    KeySchema: [
      { AttributeName: partitionKey, KeyType: "HASH" },
      { AttributeName: sortKey, KeyType: "RANGE" },
    ],
    GlobalSecondaryIndexes: Object.entries(globalIndexes).map(([name, index]) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: "HASH" },
        { AttributeName: index.sortKey, KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE_DEFINITION.stream },
  };
}
