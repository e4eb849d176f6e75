import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeStreamCommand, DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { createStreamLossLog } from "../../core/db/audit.repository";
import { createDocumentClient } from "../../core/db/client";
import { createShardRangeReader, type ShardRange } from "../../core/db/stream-records";
import { createStreamRedrive, type FailureQueue, type QueueMessage } from "../../functions/lib/stream-redrive";
import { auditConsumer } from "../../functions/manifest/audit";
import { handler as auditHandler } from "../../functions/stream/audit";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

/*
 * The AWS redrive of a consumer's failure queue (functions/lib/stream-redrive.ts), against DynamoDB
 * Local's real stream and the real audit consumer. Invariant: a batch the event source mapping gave
 * up on is never dropped silently: it is replayed into the log (and only then deleted from the queue),
 * retried later when it fails again, or, when the stream no longer holds it, recorded as lost, which
 * `verify` reports. The platform runs no consumer of its own here, so nothing is audited except by
 * the redrive.
 */

let platform: Platform;
let streams: DynamoDBStreamsClient;
let streamArn: string;
const db = () => createDocumentClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" });

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [] });
  const raw = new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" });
  streamArn = (await raw.send(new DescribeTableCommand({ TableName: platform.tableName }))).Table!.LatestStreamArn!;
  raw.destroy();
  streams = new DynamoDBStreamsClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" });
});
afterAll(async () => {
  streams?.destroy();
  await platform?.stop();
});

/**
 * A stand-in for the SQS failure queue: there is no local SQS. It keeps messages with their
 * visibility, as SQS does for one receiver, and records what the redrive did with each.
 */
function memoryQueue(bodies: string[], sentAt = Date.now()) {
  const messages = bodies.map((body, i) => ({ id: `m${i}`, body, receiptHandle: `r${i}`, receiveCount: 0, sentAt, visibleAt: 0 }));
  const deleted: string[] = [];
  const delays: Record<string, number[]> = {};
  const queue: FailureQueue = {
    async receive(max, visibilitySeconds) {
      const now = Date.now();
      const visible = messages.filter((m) => m.visibleAt <= now).slice(0, max);
      for (const m of visible) {
        m.receiveCount += 1;
        m.visibleAt = now + visibilitySeconds * 1000;
      }
      return visible.map(({ visibleAt: _v, ...m }) => ({ ...m }));
    },
    async delete(message: QueueMessage) {
      const index = messages.findIndex((m) => m.id === message.id);
      if (index >= 0) messages.splice(index, 1);
      deleted.push(message.id);
    },
    async retryLater(message: QueueMessage, delaySeconds: number) {
      (delays[message.id] ??= []).push(delaySeconds);
      const m = messages.find((x) => x.id === message.id);
      if (m) m.visibleAt = Date.now() + delaySeconds * 1000;
    },
  };
  return { queue, deleted, delays, left: () => messages.map((m) => m.id) };
}

/** The stream records of one tenant so far (its shard and sequence numbers), as the mapping saw them. */
async function tenantRecords(orgId: string): Promise<{ shardId: string; records: DynamoDBRecord[] }> {
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  for (const shard of StreamDescription!.Shards!) {
    let { ShardIterator: iterator } = await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.ShardId!, ShardIteratorType: "TRIM_HORIZON" }));
    const mine: DynamoDBRecord[] = [];
    for (let reads = 0; iterator && reads < 100; reads += 1) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator }));
      if (!page.Records?.length) break;
      mine.push(...page.Records.filter((r) => r.dynamodb?.Keys?.pk?.S === `T#${orgId}`).map((r) => ({ eventID: r.eventID!, dynamodb: { SequenceNumber: r.dynamodb!.SequenceNumber! } }) as DynamoDBRecord));
      iterator = page.NextShardIterator;
    }
    if (mine.length) return { shardId: shard.ShardId!, records: mine };
  }
  throw new Error(`no stream records of ${orgId}`);
}

/** An on-failure record of the mapping, as Lambda sends it to the queue. */
function failureMessage(range: Omit<ShardRange, "streamArn"> & { streamArn?: string }, arrivals = new Date().toISOString()): string {
  return JSON.stringify({
    requestContext: { requestId: randomUUID(), functionArn: "arn:aws:lambda:us-east-1:123456789012:function:audit", condition: "RetryAttemptsExhausted", approximateInvokeCount: 11 },
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    version: "1.0",
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: range.shardId,
      startSequenceNumber: range.startSequenceNumber,
      endSequenceNumber: range.endSequenceNumber,
      approximateArrivalOfFirstRecord: arrivals,
      approximateArrivalOfLastRecord: arrivals,
      batchSize: 3,
      streamArn: range.streamArn ?? streamArn,
    },
  });
}

function redrive(queue: FailureQueue, options: { handler?: (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>; readRange?: ReturnType<typeof createShardRangeReader>; consumerName?: string } = {}) {
  return createStreamRedrive({
    consumer: { ...auditConsumer, ...(options.consumerName ? { name: options.consumerName } : {}) },
    handler: options.handler ?? auditHandler,
    queue,
    readRange: options.readRange ?? createShardRangeReader({ client: streams, region: "us-east-1" }),
    losses: createStreamLossLog({ client: db(), table: platform.tableName }),
  });
}

const plenty = () => 300_000;

describe("redrive of a consumer's failure queue (AWS)", () => {
  it("replays the batch a failure record names into the audit log, then deletes the message", async () => {
    const t = await createTenant(platform, { name: "Redriven" });
    for (const title of ["one", "two"]) await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title } });
    const { shardId, records } = await tenantRecords(t.org.id);
    const { queue, deleted, left } = memoryQueue([
      failureMessage({ shardId, startSequenceNumber: records[0]!.dynamodb!.SequenceNumber!, endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber! }),
    ]);

    const summary = await redrive(queue).run(plenty);
    const again = await redrive(queue).run(plenty);
    const verdict = await call(platform, "/audit/verify", { key: t.key });
    const entries = await call(platform, "/audit/entries?fromSeq=1&limit=100", { key: t.key });

    expect(summary).toMatchObject({ replayed: 1, lost: 0, failed: 0, stoppedForTime: false });
    expect(deleted).toEqual(["m0"]);
    expect(left()).toEqual([]);
    expect(again).toMatchObject({ replayed: 0, records: 0 });
    expect(verdict.body).toMatchObject({ valid: true, coverage: { complete: true, pending: 0 } });
    // Exactly the tenant's audited records of the range, each once.
    const audited = entries.body.items.map((e: { source: { eventId: string } }) => e.source.eventId);
    expect(new Set(audited).size).toBe(audited.length);
    expect(audited.length).toBeGreaterThanOrEqual(4); // organization, key, two tickets (and their counters)
    expect(records.map((r) => r.eventID)).toEqual(expect.arrayContaining(audited));
  });

  it("applies the consumer's filter: a range of items the consumer ignores is deleted without a call", async () => {
    const t = await createTenant(platform, { name: "Filtered" });
    const { shardId, records } = await tenantRecords(t.org.id);
    const seen: DynamoDBRecord[] = [];
    // The consumer's patterns select nothing of this range when its name says "only P# items".
    const { queue, deleted } = memoryQueue([failureMessage({ shardId, startSequenceNumber: records[0]!.dynamodb!.SequenceNumber!, endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber! })]);
    const ignoring = createStreamRedrive({
      consumer: { ...auditConsumer, filterPatterns: [{ dynamodb: { Keys: { pk: { S: [{ prefix: "P#" }] } } } }] },
      handler: async (event) => void seen.push(...event.Records),
      queue,
      readRange: createShardRangeReader({ client: streams, region: "us-east-1" }),
      losses: createStreamLossLog({ client: db(), table: platform.tableName }),
    });

    const summary = await ignoring.run(plenty);

    expect(summary).toMatchObject({ replayed: 1, records: 0 });
    expect(seen).toEqual([]);
    expect(deleted).toEqual(["m0"]);
  });

  it("keeps a batch that fails again, visible again later with backoff", async () => {
    const t = await createTenant(platform, { name: "Still failing" });
    const { shardId, records } = await tenantRecords(t.org.id);
    const { queue, deleted, delays, left } = memoryQueue([failureMessage({ shardId, startSequenceNumber: records[0]!.dynamodb!.SequenceNumber!, endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber! })]);
    const failing = async (event: DynamoDBStreamEvent) => ({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber! }] });

    const summary = await redrive(queue, { handler: failing }).run(plenty);
    const second = await redrive(queue).run(plenty);

    expect(summary).toMatchObject({ replayed: 0, failed: 1 });
    expect(delays.m0).toEqual([60]);
    // Not visible again yet: the real consumer does not get it on this run either.
    expect(second).toMatchObject({ replayed: 0, failed: 0 });
    expect(deleted).toEqual([]);
    expect(left()).toEqual(["m0"]);
  });

  it("records a range the stream no longer holds as lost, deletes the message, and verify reports it", async () => {
    const t = await createTenant(platform, { name: "Lost" });
    const consumerName = auditConsumer.name;
    // A stream that no longer exists: DynamoDB Local answers ResourceNotFoundException, as AWS does.
    const gone = streamArn.replace(/stream\/.*$/, "stream/2020-01-01T00:00:00.000");
    const { queue, deleted } = memoryQueue([failureMessage({ shardId: "shardId-00000001000000000000-00000000", startSequenceNumber: "000000000000000000101", endSequenceNumber: "000000000000000000103", streamArn: gone })]);

    const summary = await redrive(queue, { consumerName }).run(plenty);
    const verdict = await call(platform, "/audit/verify", { key: t.key });

    expect(summary).toMatchObject({ lost: 1, failed: 0 });
    expect(deleted).toEqual(["m0"]);
    expect(verdict.body.valid).toBe(true);
    expect(verdict.body.coverage.complete).toBe(false);
    expect(verdict.body.coverage.lost).toEqual([
      expect.objectContaining({ shardId: "shardId-00000001000000000000-00000000", fromSequenceNumber: "000000000000000000101", toSequenceNumber: "000000000000000000103", reason: "ResourceNotFoundException" }),
    ]);
  });

  it("records records trimmed from the stream (past 24 h) as lost", async () => {
    // DynamoDB Local never trims its stream, so this one reader stands in for the stream past retention.
    const trimmed = Object.assign(new Error("The operation attempted to read past the oldest stream record in a shard."), { name: "TrimmedDataAccessException" });
    const { queue, deleted } = memoryQueue([failureMessage({ shardId: "shardId-x", startSequenceNumber: "000000000000000000201", endSequenceNumber: "000000000000000000209" }, "2020-01-01T00:00:00Z")]);
    const consumerName = `trim-${randomUUID()}`;

    const summary = await redrive(queue, { consumerName, readRange: async () => Promise.reject(trimmed) }).run(plenty);
    const lost = await createStreamLossLog({ client: db(), table: platform.tableName }).list(consumerName);

    expect(summary).toMatchObject({ lost: 1 });
    expect(deleted).toEqual(["m0"]);
    expect(lost).toEqual([expect.objectContaining({ fromSequenceNumber: "000000000000000000201", reason: "TrimmedDataAccessException", firstRecordAt: "2020-01-01T00:00:00Z" })]);
  });

  it("stops before the invocation's time runs out, leaving the rest visible for the next run", async () => {
    const t = await createTenant(platform, { name: "Deadline" });
    const { shardId, records } = await tenantRecords(t.org.id);
    const range = { shardId, startSequenceNumber: records[0]!.dynamodb!.SequenceNumber!, endSequenceNumber: records.at(-1)!.dynamodb!.SequenceNumber! };
    const { queue, deleted, delays, left } = memoryQueue([failureMessage(range), failureMessage(range), failureMessage(range)]);
    // Enough time for one message, then below the 30 s safety margin.
    let checks = 0;
    const remaining = () => (checks++ < 2 ? 60_000 : 10_000);

    const summary = await redrive(queue).run(remaining);

    expect(summary).toMatchObject({ replayed: 1, stoppedForTime: true });
    expect(deleted).toEqual(["m0"]);
    expect(delays).toEqual({ m1: [0], m2: [0] });
    expect(left()).toEqual(["m1", "m2"]);
  });

  it("leaves a message that is not an on-failure record for a person, and counts it failed", async () => {
    const { queue, deleted, left } = memoryQueue(["not json", JSON.stringify({ DDBStreamBatchInfo: { shardId: "s" } })]);

    const summary = await redrive(queue).run(plenty);

    expect(summary).toMatchObject({ failed: 2, replayed: 0, lost: 0 });
    expect(deleted).toEqual([]);
    expect(left()).toEqual(["m0", "m1"]);
  });
});
