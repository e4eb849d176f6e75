import { describe, expect, it } from "vitest";
import { BatchGetCommand, BatchWriteCommand } from "@aws-sdk/lib-dynamodb";
import { batchGetAll, batchWriteAll, UNPROCESSED_ROUNDS } from "../../../core/db/batch";
import { DomainError } from "../../../core/errors";

/*
 * A stand-in client: DynamoDB Local never leaves part of a batch unprocessed (it does not throttle), so
 * the fault these helpers bound cannot be produced by the real part. Everything else about batches is
 * covered against DynamoDB Local by the repositories' integration tests.
 */
function client(unprocessedFor: number) {
  const sent: unknown[] = [];
  return {
    sent,
    async send(command: BatchGetCommand | BatchWriteCommand) {
      sent.push(command);
      const [table, request] = Object.entries(command.input.RequestItems!)[0]!;
      const throttled = sent.length <= unprocessedFor;
      if (command instanceof BatchGetCommand) {
        const keys = (request as { Keys: Record<string, unknown>[] }).Keys;
        // Throttled: the first key is served, the rest left over.
        const served = throttled ? keys.slice(0, 1) : keys;
        const left = throttled ? keys.slice(1) : [];
        return { Responses: { [table]: served.map((k) => ({ ...k, found: true })) }, UnprocessedKeys: left.length ? { [table]: { Keys: left } } : {} } as never;
      }
      const items = request as unknown[];
      return { UnprocessedItems: throttled ? { [table]: items } : {} } as never;
    },
  };
}

const keys = (n: number) => Array.from({ length: n }, (_, i) => ({ pk: "p", sk: String(i) }));

describe("batch reads and writes", () => {
  it("reads what was left unprocessed again, in chunks of 100", async () => {
    const c = client(2);
    const items = await batchGetAll(c, "t", keys(150));
    expect(items).toHaveLength(150);
    expect(new Set(items.map((i) => i.sk)).size).toBe(150);
  });

  it("gives up after a bounded number of sends with a 503 the caller can retry", async () => {
    const c = client(Number.POSITIVE_INFINITY);
    const error = await batchGetAll(c, "t", keys(10)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ kind: "unavailable", code: "dynamodb_unavailable" });
    expect(c.sent).toHaveLength(UNPROCESSED_ROUNDS);
  });

  it("writes every chunk, retrying its unprocessed items, and reports each chunk once", async () => {
    const c = client(1);
    const chunks: number[] = [];
    await batchWriteAll(c, "t", keys(30).map((Key) => ({ DeleteRequest: { Key } })), (n) => chunks.push(n));
    expect(chunks).toEqual([25, 5]);
    await expect(batchWriteAll(client(Number.POSITIVE_INFINITY), "t", keys(3).map((Key) => ({ DeleteRequest: { Key } })))).rejects.toMatchObject({ code: "dynamodb_unavailable" });
  });
});
