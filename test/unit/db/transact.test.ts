import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient, TransactionCanceledException } from "@aws-sdk/client-dynamodb";
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient, type UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import { ensureTable, startDynamoDbLocal, type DynamoDbLocal } from "../../../local/dynamodb";
import { createDocumentClient } from "../../../core/db/client";
import { keys } from "../../../core/db/keys";
import { TRANSACTION_CONFLICT_POLICY, transactWrite, type TransactItem } from "../../../core/db/transact";
import { createUsageCounters } from "../../../core/db/usage-counters";
import { DomainError } from "../../../core/errors";

/*
 * The transactWrite helper (core/db/transact.ts) and the usage counters' parts
 * (core/db/usage-counters.ts), against DynamoDB Local.
 */

let dynamo: DynamoDbLocal;
let client: DynamoDBDocumentClient;
const table = "agentorg-transact";
const counters = createUsageCounters(table);
let n = 0;
const org = () => `org_tx${(n += 1)}`;

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  const admin = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  await ensureTable(admin, table);
  admin.destroy();
  client = createDocumentClient({ endpoint: dynamo.endpoint, region: "us-east-1" });
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

const get = async (key: { pk: string; sk: string }) => (await client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
const putNew = (key: { pk: string; sk: string }, extra: Record<string, unknown> = {}): TransactItem => ({
  Put: { TableName: table, Item: { ...key, entity: "ticket", ...extra }, ConditionExpression: "attribute_not_exists(pk)" },
});

/**
 * A client whose first `conflicts` transactions are cancelled with TransactionConflict, then the real
 * one. A stand-in for a fault DynamoDB Local produces only under races a test cannot schedule.
 */
function conflictingClient(conflicts: number): DynamoDBDocumentClient & { sent: number } {
  const wrapper = Object.create(client) as DynamoDBDocumentClient & { sent: number };
  wrapper.sent = 0;
  wrapper.send = (async (command: Parameters<DynamoDBDocumentClient["send"]>[0]) => {
    wrapper.sent += 1;
    if (wrapper.sent <= conflicts) {
      throw new TransactionCanceledException({
        message: "Transaction cancelled, please refer cancellation reasons for specific reasons [None, TransactionConflict]",
        $metadata: { httpStatusCode: 400 },
        CancellationReasons: [{ Code: "None" }, { Code: "TransactionConflict", Message: "Transaction is ongoing for the item" }],
      });
    }
    return client.send(command as never);
  }) as never;
  return wrapper;
}

describe("transactWrite", () => {
  it("writes every part", async () => {
    const orgId = org();

    const result = await transactWrite(client, [
      ["ticketQuota", counters.ticketQuota(orgId, "2026-03", 5)],
      ["ticket", putNew(keys.ticket(orgId, "t1"))],
    ]);

    expect(result).toEqual({ ok: true });
    expect((await get(keys.usage(orgId, "2026-03")))?.tickets).toBe(1);
    expect(await get(keys.ticket(orgId, "t1"))).toBeDefined();
  });

  it("names the part whose condition failed, and writes nothing", async () => {
    const orgId = org();
    await transactWrite(client, [["ticketQuota", counters.ticketQuota(orgId, "2026-03", 1)]]);

    const result = await transactWrite(client, [
      ["ticketQuota", counters.ticketQuota(orgId, "2026-03", 1)],
      ["ticket", putNew(keys.ticket(orgId, "t2"))],
    ]);

    expect(result).toEqual({ ok: false, failed: "ticketQuota", conditions: ["ticketQuota"] });
    expect(await get(keys.ticket(orgId, "t2"))).toBeUndefined();
  });

  it("reports the first failed part in order, and every failed one once", async () => {
    const orgId = org();
    await transactWrite(client, [["number", putNew(keys.ticketNumber(orgId, "INC1"))], ["history", putNew(keys.ticketHistory(orgId, "t", 1))]]);

    const result = await transactWrite(client, [
      ["ticket", putNew(keys.ticket(orgId, "t3"))],
      ["number", putNew(keys.ticketNumber(orgId, "INC1"))],
      ["history", putNew(keys.ticketHistory(orgId, "t", 1))],
      ["history", putNew(keys.ticketHistory(orgId, "t", 2))],
    ]);

    expect(result).toEqual({ ok: false, failed: "number", conditions: ["number", "history"] });
  });

  it("retries a transaction cancelled by TransactionConflict and succeeds", async () => {
    const orgId = org();
    const busy = conflictingClient(3);
    const waits: number[] = [];

    const result = await transactWrite(busy, [["ticketQuota", counters.ticketQuota(orgId, "2026-03", 5)]], { sleep: async (ms) => void waits.push(ms) });

    expect(result).toEqual({ ok: true });
    expect(busy.sent).toBe(4);
    expect((await get(keys.usage(orgId, "2026-03")))?.tickets).toBe(1);
    // Full jitter, growing bound: attempt n waits at most 10·2^n ms.
    waits.forEach((ms, i) => expect(ms).toBeLessThanOrEqual(10 * 2 ** (i + 1)));
  });

  it("gives up after the policy's attempts with 503 transaction_conflict", async () => {
    const busy = conflictingClient(Number.POSITIVE_INFINITY);

    const attempt = transactWrite(busy, [["ticketQuota", counters.ticketQuota(org(), "2026-03", 5)]], { sleep: async () => undefined });

    await expect(attempt).rejects.toSatisfy(
      (error: unknown) => error instanceof DomainError && error.kind === "unavailable" && error.code === "transaction_conflict" && error.details.retryAfterSeconds === 1,
    );
    expect(busy.sent).toBe(TRANSACTION_CONFLICT_POLICY.attempts);
  });

  it("throws any other error as DynamoDB raised it", async () => {
    const broken: TransactItem = { Update: { TableName: table, Key: keys.usage(org(), "2026-03"), UpdateExpression: "ADD", ExpressionAttributeValues: {} } };

    await expect(transactWrite(client, [["usage", broken]])).rejects.toMatchObject({ name: "ValidationException" });
  });
});

describe("usage counters", () => {
  it("reserve, settle and release keep committed spend = settled cost + open reservations, each reservation closed once", async () => {
    const orgId = org();
    const send = (input: UpdateCommandInput) => client.send(new UpdateCommand(input));
    const reservation = (id: string, amountMicroUsd: number) => ({ id, orgId, period: "2026-03", amountMicroUsd, expiresAt: Date.now() + 60_000 });
    const [first, second, third] = [reservation("a", 300), reservation("b", 500), reservation("c", 300)];
    await send(counters.reserve(first, 1000));
    await send(counters.reserve(second, 1000));
    await expect(send(counters.reserve(third, 1000))).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });

    const record = {
      id: "r1", orgId, time: "2026-03-02T09:00:00.000Z", tier: "slm", model: "small", inputTokens: 10, outputTokens: 5,
      costMicroUsd: 120, baselineMicroUsd: 900, offline: false, attempts: [{}],
    } as never;
    expect(await transactWrite(client, [["usage", counters.settle(first, record, true)]])).toEqual({ ok: true });
    // Settled: it is closed, so settling it as open again fails on its own condition.
    expect(await transactWrite(client, [["usage", counters.settle(first, record, true)]])).toMatchObject({ failed: "usage" });
    await send(counters.release(second));
    await expect(send(counters.release(second))).rejects.toMatchObject({ name: "ConditionalCheckFailedException" });

    expect(await get(keys.usage(orgId, "2026-03"))).toMatchObject({ entity: "usage", committedMicroUsd: 120, openReservations: 0, queries: 1, slmQueries: 1, "model:small": 1 });
  });

  it("keeps the usage item out of every index, and takes one written before that out with its next write", async () => {
    const orgId = org();
    const send = (input: UpdateCommandInput) => client.send(new UpdateCommand(input));
    const fresh = { id: "a", orgId, period: "2026-03", amountMicroUsd: 100, expiresAt: Date.now() + 60_000 };
    await send(counters.reserve(fresh, 1000));
    expect(Object.keys((await get(keys.usage(orgId, "2026-03")))!).filter((name) => name.startsWith("gsi"))).toEqual([]);

    // An item as the usage index left it: each write cost a unit more for its index copy.
    const legacy = org();
    await client.send(new UpdateCommand({ TableName: table, Key: keys.usage(legacy, "2026-03"), UpdateExpression: "SET gsi1pk = :p, gsi1sk = :s", ExpressionAttributeValues: { ":p": "USAGE#2026-03#1", ":s": legacy } }));
    await send(counters.reserve({ ...fresh, orgId: legacy }, 1000));
    expect((await get(keys.usage(legacy, "2026-03")))!).not.toHaveProperty("gsi1pk");
  });

  it("keeps the agents counter under its limit and moves it only on the count a decision saw", async () => {
    const orgId = org();
    expect(await transactWrite(client, [["agentQuota", counters.agentQuota(orgId, 1)]])).toEqual({ ok: true });
    expect(await transactWrite(client, [["agentQuota", counters.agentQuota(orgId, 1)]])).toMatchObject({ failed: "agentQuota" });

    expect(await transactWrite(client, [["agentsCounter", counters.agentsUnchanged(orgId, 0)]])).toMatchObject({ failed: "agentsCounter" });
    expect(await transactWrite(client, [["agentsCounter", counters.agentRemoved(orgId, 1)]])).toEqual({ ok: true });
    expect((await get(keys.counter(orgId, "agents")))?.count).toBe(0);
  });
});
