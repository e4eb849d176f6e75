import { BatchGetCommand, type BatchGetCommandOutput, BatchWriteCommand, type BatchWriteCommandOutput, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { unavailable } from "../errors";

/**
 * Batch reads and writes that finish what DynamoDB leaves unprocessed (it returns part of a batch
 * when it throttles), within a bound: at most `UNPROCESSED_ROUNDS` sends a chunk, with a doubling
 * pause between them; past that, a 503 (`dynamodb_unavailable`) the caller can retry, never an endless
 * loop against a throttled table.
 */

/** BatchGetItem's and BatchWriteItem's limits per request. */
export const BATCH_GET_LIMIT = 100;
export const BATCH_WRITE_LIMIT = 25;
/** Sends of one chunk, the first included. */
export const UNPROCESSED_ROUNDS = 5;
const PAUSE_MS = 50;

type Client = Pick<DynamoDBDocumentClient, "send">;
const pause = (round: number) => new Promise((resolve) => setTimeout(resolve, PAUSE_MS * 2 ** round));
const throttled = () => unavailable("DynamoDB kept part of a batch unprocessed (throttled); try again.", 1, "dynamodb_unavailable");

/** Every item of `keys` that exists (any order), read in chunks of BATCH_GET_LIMIT. */
export async function batchGetAll(
  client: Client,
  table: string,
  keys: readonly object[],
  options: { consistentRead?: boolean; projection?: string } = {},
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
    let request: Record<string, unknown>[] | undefined = keys.slice(i, i + BATCH_GET_LIMIT).map((key) => ({ ...(key as Record<string, unknown>) }));
    for (let round = 0; request?.length; round += 1) {
      if (round >= UNPROCESSED_ROUNDS) throw throttled();
      if (round > 0) await pause(round);
      const result: BatchGetCommandOutput = await client.send(
        new BatchGetCommand({
          RequestItems: {
            [table]: {
              Keys: request,
              ...(options.consistentRead ? { ConsistentRead: true } : {}),
              ...(options.projection ? { ProjectionExpression: options.projection } : {}),
            },
          },
        }),
      );
      items.push(...(result.Responses?.[table] ?? []));
      request = result.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return items;
}

/** Writes `requests` (PutRequest / DeleteRequest) in chunks of BATCH_WRITE_LIMIT, calling `onChunk` after each. */
export async function batchWriteAll(
  client: Client,
  table: string,
  requests: readonly Record<string, unknown>[],
  onChunk: (written: number) => void = () => undefined,
): Promise<void> {
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    const chunk = requests.slice(i, i + BATCH_WRITE_LIMIT);
    let pending: Record<string, unknown>[] | undefined = [...chunk];
    for (let round = 0; pending?.length; round += 1) {
      if (round >= UNPROCESSED_ROUNDS) throw throttled();
      if (round > 0) await pause(round);
      const result: BatchWriteCommandOutput = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending as never } }));
      pending = result.UnprocessedItems?.[table] as Record<string, unknown>[] | undefined;
    }
    onChunk(chunk.length);
  }
}
