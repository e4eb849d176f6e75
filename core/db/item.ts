import { QueryCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { TABLE_ATTRIBUTES } from "./entities";

/** Attributes that exist for the table's sake, not the entity's (core/db/entities.ts). */
const BOOKKEEPING = new Set<string>(TABLE_ATTRIBUTES);

/** An item as stored, without its bookkeeping attributes (entities with more use `entities.<name>.fromItem`). */
export function toEntity<T>(item: Record<string, unknown> | undefined): T | undefined {
  if (!item) return undefined;
  const entity: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(item)) if (!BOOKKEEPING.has(name)) entity[name] = value;
  return entity as T;
}

/** Clamp a page size from a request to what one query returns. */
export const pageSize = (limit: number | undefined, max = 100): number =>
  Math.min(Math.max(Math.trunc(limit ?? 25), 1), max);

/** Every item of a partition whose sort key starts with `prefix`, following the pages. */
export async function queryAll(client: DynamoDBDocumentClient, table: string, pk: string, prefix: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues: { ":pk": pk, ":prefix": prefix },
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}
