import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { handler as auditHandler } from "../../functions/stream/audit";
import { auditConsumer } from "../../functions/manifest/audit";
import type { Platform } from "../../local/platform";
import { createStreamPoller } from "../../local/stream-poller";
import { allAuditEntries, verifyLog } from "../support/faults";
import { call, createTenant, startTestPlatform } from "../support/platform";

/*
 * Fault: the stream delivers records more than once, as streams do (at least once), through the real
 * stream and the real audit consumer: extra pollers without checkpoints read the whole stream again
 * while the platform's own poller delivers it, and a consumer instance dies half way through a batch
 * (its first half committed, the reply lost), so the batch comes again.
 *
 * Invariant: every change has exactly one entry (no stream record is audited twice, none is
 * skipped), and the chain stays valid with complete coverage.
 * (test/integration/audit-consumer.test.ts covers the same with hand-made records: a batch delivered
 * twice, a crash between two appends, concurrent consumers.)
 */

let platform: Platform;
let streamArn: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  const raw = new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" });
  streamArn = (await raw.send(new DescribeTableCommand({ TableName: platform.tableName }))).Table!.LatestStreamArn!;
  raw.destroy();
});
afterAll(async () => {
  await platform?.stop();
});

type Handler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

/** Another poller of the whole stream (no checkpoint: from its oldest record) feeding the audit consumer. */
function extraPoller(handler: Handler) {
  return createStreamPoller({
    endpoint: platform.dynamoDbEndpoint,
    region: "us-east-1",
    streamArn,
    consumers: [auditConsumer],
    resolveHandler: () => handler,
    pollIntervalMs: 50,
    retry: { baseDelayMs: 10, maxDelayMs: 50 },
    log: () => undefined,
  });
}

async function changes(key: string, n: number, prefix: string) {
  for (let i = 0; i < n; i++) {
    const created = await call(platform, "/tickets", { method: "POST", key, body: { type: "incident", title: `${prefix} ${i}` } });
    expect(created.status).toBe(201);
  }
}

async function expectEachChangeOnce(key: string) {
  await platform.poller.drained();
  const entries = await allAuditEntries(platform, key);
  const eventIds = entries.map((e) => e.source.eventId);
  const tickets = entries.filter((e) => e.entity.type === "ticket" && e.action === "insert").map((e) => e.entity.id);
  return { eventIds, tickets, verdict: await verifyLog(platform, key) };
}

describe("stream redelivery", () => {
  it("never duplicates an entry when the same records are delivered by three pollers at once", async () => {
    const t = await createTenant(platform, { name: "Delivered thrice", tier: "enterprise" });
    const pollers = [extraPoller(auditHandler), extraPoller(auditHandler)];
    for (const p of pollers) p.start();

    await changes(t.key, 12, "thrice");
    await Promise.all([...pollers.map((p) => p.drained()), platform.poller.drained()]);
    await Promise.all(pollers.map((p) => p.stop()));
    const { eventIds, tickets, verdict } = await expectEachChangeOnce(t.key);

    expect(new Set(eventIds).size).toBe(eventIds.length);
    expect(tickets).toHaveLength(12);
    expect(new Set(tickets).size).toBe(12);
    expect(verdict).toMatchObject({ valid: true, coverage: { complete: true, pending: 0 } });
  }, 120_000);

  it("never duplicates an entry when a consumer dies half way through a batch and it is delivered again", async () => {
    const t = await createTenant(platform, { name: "Half a batch", tier: "enterprise" });
    await changes(t.key, 10, "half");
    await platform.poller.drained();
    const before = (await allAuditEntries(platform, t.key)).length;
    let deaths = 0;
    // The first delivery of each batch: its first half is audited (committed), then the instance dies.
    const seen = new Set<string>();
    const dying: Handler = async (event) => {
      const batch = event.Records.map((r) => r.eventID).join();
      if (!seen.has(batch) && event.Records.length > 1) {
        seen.add(batch);
        await auditHandler({ Records: event.Records.slice(0, Math.ceil(event.Records.length / 2)) });
        deaths += 1;
        throw new Error("instance died after committing half of the batch");
      }
      return auditHandler(event);
    };
    // The platform's own poller has audited everything already: this one redelivers the whole stream,
    // and dies on each batch once.
    const poller = extraPoller(dying);

    poller.start();
    await changes(t.key, 6, "during");
    await poller.drained();
    await poller.stop();
    const { eventIds, tickets, verdict } = await expectEachChangeOnce(t.key);

    expect(deaths).toBeGreaterThan(0);
    expect(new Set(eventIds).size).toBe(eventIds.length);
    expect(eventIds.length).toBeGreaterThanOrEqual(before);
    expect(tickets).toHaveLength(16);
    expect(new Set(tickets).size).toBe(16);
    expect(verdict).toMatchObject({ valid: true, coverage: { complete: true, pending: 0 } });
  }, 120_000);
});
