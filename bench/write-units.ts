import { DynamoDBClient, GetItemCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import { TABLE_DEFINITION } from "../core/db/table";

/**
 * Write request units as DynamoDB bills them on demand, computed from the items a write touches.
 *
 * Why not DynamoDB Local's ConsumedCapacity: for transactions it is wrong. Local sums the sizes of a
 * transaction's items and rounds once (three 100-byte puts in a transaction: Local says 2, DynamoDB
 * bills 6), and it does not say what the table's index costs. The rules applied here
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
 * .../CapacityUnitCalculations.html, .../GSI.html#GSI.ThroughputConsiderations.Writes):
 *
 * - a write costs 1 unit per started KB of the item, the larger of its image before and after (an
 *   update), at least 1 (also a delete of nothing, also a write whose condition failed);
 * - inside TransactWriteItems every item (condition checks too) costs twice that;
 * - gsi1 projects ALL: an item with its index keys costs a write on the index too, sized like the
 *   item (the larger image), when it enters or leaves the index or changes; when its index keys
 *   change, a delete and a put. Index writes are not doubled by a transaction.
 *
 * Item size: attribute names plus values (strings and binary by bytes, a number about 1 byte per two
 * significant digits plus 1, booleans and null 1, lists and maps 3 bytes plus 1 per element).
 */

/** The size of an item (AttributeValue form) as DynamoDB counts it. */
export function itemSize(item: Record<string, AttributeValue> | undefined): number {
  if (!item) return 0;
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += Buffer.byteLength(name) + valueSize(value);
  return size;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS) return value.SS.reduce((s, v) => s + Buffer.byteLength(v), 0);
  if (value.NS) return value.NS.reduce((s, v) => s + numberSize(v), 0);
  if (value.BS) return value.BS.reduce((s, v) => s + v.length, 0);
  if (value.L) return 3 + value.L.reduce((s, v) => s + 1 + valueSize(v), 0);
  if (value.M) return 3 + Object.entries(value.M).reduce((s, [k, v]) => s + 1 + Buffer.byteLength(k) + valueSize(v), 0);
  return 0;
}

function numberSize(text: string): number {
  const digits = text.replace(/^-/, "").replace(".", "").replace(/^0+/, "").replace(/0+$/, "");
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
}

const KB = 1024;
const unitsOf = (bytes: number) => Math.max(1, Math.ceil(bytes / KB));

/** Units one item's write costs: on the table (doubled in a transaction) and on gsi1. */
export function writeUnits(before: Record<string, AttributeValue> | undefined, after: Record<string, AttributeValue> | undefined, transactional: boolean): { table: number; index: number } {
  const table = unitsOf(Math.max(itemSize(before), itemSize(after))) * (transactional ? 2 : 1);
  let index = 0;
  for (const gsi of Object.values(TABLE_DEFINITION.globalIndexes)) {
    const keyOf = (item: Record<string, AttributeValue> | undefined) => {
      const pk = item?.[gsi.partitionKey]?.S;
      const sk = item?.[gsi.sortKey]?.S;
      return pk !== undefined && sk !== undefined ? `${pk}\u0000${sk}` : null;
    };
    const was = keyOf(before);
    const is = keyOf(after);
    if (was === null && is === null) continue;
    if (was !== null && is !== null && was === is) {
      if (JSON.stringify(before) !== JSON.stringify(after)) index += unitsOf(Math.max(itemSize(before), itemSize(after)));
    } else {
      if (was !== null) index += unitsOf(itemSize(before)); // leaves the index (or moves: delete...)
      if (is !== null) index += unitsOf(itemSize(after)); // ...and put
    }
  }
  return { table, index };
}

const ATTRIBUTE_TYPES = new Set(["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"]);

/** A key or item in AttributeValue form: a recorder may see a document client's input before or after it marshalls. */
function attributes(item: Record<string, unknown>): Record<string, AttributeValue> {
  const marshalled = Object.values(item).every((v) => v !== null && typeof v === "object" && Object.keys(v).length === 1 && ATTRIBUTE_TYPES.has(Object.keys(v)[0]!));
  return marshalled ? (item as Record<string, AttributeValue>) : marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true });
}

/** The keys (and table) of every item a write command touches, and whether it is transactional. */
export function writtenKeys(command: string, input: Record<string, any>): { table: string; key: Record<string, AttributeValue>; transactional: boolean }[] {
  const keyFrom = (raw: Record<string, unknown>) => {
    const item = attributes(raw);
    return { [TABLE_DEFINITION.partitionKey]: item[TABLE_DEFINITION.partitionKey]!, [TABLE_DEFINITION.sortKey]: item[TABLE_DEFINITION.sortKey]! };
  };
  switch (command) {
    case "PutItem":
      return [{ table: input.TableName, key: keyFrom(input.Item), transactional: false }];
    case "UpdateItem":
    case "DeleteItem":
      return [{ table: input.TableName, key: keyFrom(input.Key), transactional: false }];
    case "BatchWriteItem":
      return Object.entries(input.RequestItems ?? {}).flatMap(([table, requests]) =>
        (requests as { PutRequest?: { Item: Record<string, AttributeValue> }; DeleteRequest?: { Key: Record<string, AttributeValue> } }[]).map((r) => ({
          table,
          key: keyFrom(r.PutRequest ? r.PutRequest.Item : r.DeleteRequest!.Key),
          transactional: false,
        })),
      );
    case "TransactWriteItems":
      return (input.TransactItems ?? []).map((item: Record<string, { TableName: string; Key?: Record<string, AttributeValue>; Item?: Record<string, AttributeValue> }>) => {
        const part = item.Put ?? item.Update ?? item.Delete ?? item.ConditionCheck!;
        return { table: part.TableName, key: keyFrom(part.Key ?? part.Item!), transactional: true };
      });
    default:
      return [];
  }
}

/**
 * Measures a write: reads the images of the items it touches before and after it (with a client of
 * its own, outside the functions' permission guard and recorder), and prices them.
 */
export function createWriteMeter(endpoint: string, region = "us-east-1") {
  const probe = new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const read = (table: string, key: Record<string, AttributeValue>) =>
    probe.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true })).then((r) => r.Item);
  return {
    /** Call before the write; the returned function, after it, gives the write's units. */
    async before(command: string, input: Record<string, any>): Promise<() => Promise<{ table: number; index: number }>> {
      const targets = writtenKeys(command, input);
      const befores = await Promise.all(targets.map((t) => read(t.table, t.key)));
      return async () => {
        const afters = await Promise.all(targets.map((t) => read(t.table, t.key)));
        return targets.reduce(
          (sum, t, i) => {
            const units = writeUnits(befores[i], afters[i], t.transactional);
            return { table: sum.table + units.table, index: sum.index + units.index };
          },
          { table: 0, index: 0 },
        );
      };
    },
    close: () => probe.destroy(),
  };
}
