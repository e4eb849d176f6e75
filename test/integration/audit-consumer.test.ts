import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { createAuditConsumer, type AuditConsumerDeps } from "../../core/audit/audit-consumer";
import { createAuditLog } from "../../core/audit/audit-log";
import { appendEntries, generateAuditKeyPair, verifyChain } from "../../core/audit/chain";
import type { AuditEntry, Checkpoint } from "../../core/audit/entry";
import { OPERATOR } from "../../core/auth/principal";
import type { AuditStore } from "../../core/audit/ports";
import { createAuditKeyRegistry, createAuditStore, createStreamLossLog, type AuditStoreFaults } from "../../core/db/audit.repository";
import { keys as tableKeys } from "../../core/db/keys";
import { toStreamChangeRecord } from "../../core/db/audit-stream";
import type { Platform } from "../../local/platform";
import { startTestPlatform } from "../support/platform";

/*
 * The consumer's guarantees against DynamoDB Local, with stream records built here so that each test
 * controls delivery: redelivery, concurrent consumers, crashes between writes, lost races, checkpoints,
 * records that cannot be audited. (audit-log.test.ts covers the path through the real stream.)
 */

let platform: Platform;
const clients: DynamoDBDocumentClient[] = [];
const signing = generateAuditKeyPair();

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [] });
});
afterAll(async () => {
  for (const client of clients) client.destroy();
  await platform?.stop();
});

/** A store and a consumer with their own client, as a separate function instance would have. */
function instance(faults?: AuditStoreFaults, deps: Partial<AuditConsumerDeps> = {}) {
  const client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
  clients.push(client);
  const options = { client, table: platform.tableName };
  const store = createAuditStore({ ...options, ...(faults ? { faults } : {}) });
  const keys = createAuditKeyRegistry(options);
  const consumer = createAuditConsumer({ store, keys, signingKey: signing.privateKey, sleep: async () => undefined, ...deps });
  const log = createAuditLog({ store, keys, orgs: { get: async (id) => ({ id }) as never } });
  return { store, consumer, log };
}

let sequence = 1_000_000;
/** Lambda-shaped INSERT records of `n` tickets of one tenant. */
function ticketRecords(orgId: string, n: number, from = 1): DynamoDBRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    const image = { pk: `T#${orgId}`, sk: `TICKET#${k}`, entity: "ticket", id: `tkt_${k}`, orgId, title: `Ticket ${k}`, updatedBy: "agent:agt_1" };
    return {
      eventID: randomUUID().replaceAll("-", ""),
      eventName: "INSERT",
      eventSource: "aws:dynamodb",
      awsRegion: "us-east-1",
      dynamodb: {
        ApproximateCreationDateTime: 1_772_442_000 + k,
        Keys: marshall({ pk: image.pk, sk: image.sk }) as never,
        NewImage: marshall(image) as never,
        SequenceNumber: String((sequence += 1)),
        SizeBytes: 100,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    };
  });
}

const changes = (records: DynamoDBRecord[]) => records.map(toStreamChangeRecord);

async function chainOf(store: ReturnType<typeof createAuditStore>, orgId: string) {
  const entries: AuditEntry[] = [];
  for await (const page of store.entryPages(orgId)) entries.push(...(page as AuditEntry[]));
  const checkpoints: Checkpoint[] = [];
  for await (const page of store.checkpointPages(orgId)) checkpoints.push(...(page as Checkpoint[]));
  return { entries, checkpoints, verdict: verifyChain(entries, checkpoints, signing.publicKey, { orgId }) };
}

const eventIds = (entries: AuditEntry[]) => entries.map((e) => e.source.eventId);

describe("audit consumer", () => {
  it("appends a tenant's records in order, in transactions of at most 49 records", async () => {
    const orgId = `org-${randomUUID()}`;
    const records = ticketRecords(orgId, 120);
    const commits: number[] = [];
    const { consumer, store } = instance({ afterCommit: (append) => void commits.push(append.entries.length) });

    const result = await consumer.consume(changes(records));
    const { entries, verdict } = await chainOf(store, orgId);

    expect(result).toEqual({ appended: 120, skipped: 0, failed: [] });
    expect(verdict).toMatchObject({ valid: true, length: 120 });
    expect(eventIds(entries)).toEqual(records.map((r) => r.eventID));
    expect(Math.max(...commits)).toBeLessThanOrEqual(49);
  });

  it("adds nothing when the same batch is delivered twice", async () => {
    const orgId = `org-${randomUUID()}`;
    const records = ticketRecords(orgId, 30);
    const { consumer, store } = instance();

    const first = await consumer.consume(changes(records));
    const second = await consumer.consume(changes(records));
    const { entries, verdict } = await chainOf(store, orgId);

    expect(first.appended).toBe(30);
    expect(second).toEqual({ appended: 0, skipped: 30, failed: [] });
    expect(entries).toHaveLength(30);
    expect(verdict.valid).toBe(true);
  });

  it("yields one linear chain when two consumers append for the same tenant at once", async () => {
    const orgId = `org-${randomUUID()}`;
    const records = ticketRecords(orgId, 100);
    // Overlapping slices, as two shards' pollers or a retry racing the original delivery would see them.
    // Real jittered waits between attempts here: without them three writers can collide in lockstep.
    const racing = { sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };
    const one = instance(undefined, racing);
    const two = instance(undefined, racing);

    const results = await Promise.all([
      one.consumer.consume(changes(records.slice(0, 70))),
      two.consumer.consume(changes(records.slice(30))),
      one.consumer.consume(changes(records.slice(50, 90))),
    ]);
    const { entries, verdict } = await chainOf(one.store, orgId);

    expect(results.flatMap((r) => r.failed)).toEqual([]);
    expect(results.reduce((n, r) => n + r.appended, 0)).toBe(100);
    expect(verdict).toMatchObject({ valid: true, length: 100 });
    expect(new Set(eventIds(entries)).size).toBe(100);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
  });

  it("retries a lost race from the new head", async () => {
    const orgId = `org-${randomUUID()}`;
    const mine = ticketRecords(orgId, 5);
    const theirs = ticketRecords(orgId, 5, 100);
    const rival = instance();
    let raced = false;
    const { consumer, store } = instance({
      // Between building and committing, another writer moves the head: this commit must not land.
      beforeCommit: async () => {
        if (raced) return;
        raced = true;
        await rival.consumer.consume(changes(theirs));
      },
    });

    const result = await consumer.consume(changes(mine));
    const { entries, verdict } = await chainOf(store, orgId);

    expect(result).toEqual({ appended: 5, skipped: 0, failed: [] });
    expect(verdict).toMatchObject({ valid: true, length: 10 });
    expect(eventIds(entries)).toEqual([...theirs, ...mine].map((r) => r.eventID));
  });

  it("recovers from a crash between two appends on the next delivery", async () => {
    const orgId = `org-${randomUUID()}`;
    const records = ticketRecords(orgId, 80);
    let crashes = 0;
    // The function instance dies right after its first transaction (49 records) has committed.
    const crashing = instance({
      afterCommit: () => {
        if (crashes++ === 0) throw new Error("instance crashed");
      },
    });

    const first = await crashing.consumer.consume(changes(records));
    const partial = await chainOf(crashing.store, orgId);
    // The mapping redelivers from the lowest failed record (here: the whole batch, the conservative answer
    // when an append's outcome is unknown), to another instance.
    const failedAt = records.findIndex((r) => r.dynamodb!.SequenceNumber === first.failed[0]);
    const retry = await instance().consumer.consume(changes(records.slice(failedAt)));
    const { entries, verdict } = await chainOf(crashing.store, orgId);

    expect(first.failed).toEqual([records[0]!.dynamodb!.SequenceNumber]);
    expect(partial.verdict).toMatchObject({ valid: true, length: 49 });
    expect(retry).toEqual({ appended: 31, skipped: 49, failed: [] });
    expect(verdict).toMatchObject({ valid: true, length: 80 });
    expect(eventIds(entries)).toEqual(records.map((r) => r.eventID));
  });

  it("writes nothing when it crashes after building an append, and completes on retry", async () => {
    const orgId = `org-${randomUUID()}`;
    const records = ticketRecords(orgId, 10);
    let crashed = false;
    const { consumer, store } = instance({
      beforeCommit: () => {
        if (!crashed) {
          crashed = true;
          throw new Error("instance crashed");
        }
      },
    });

    const first = await consumer.consume(changes(records));
    const head = await store.head(orgId);
    const second = await consumer.consume(changes(records));

    expect(first.failed).toEqual([records[0]!.dynamodb!.SequenceNumber]);
    expect(head).toBeNull();
    expect(second.appended).toBe(10);
    expect((await chainOf(store, orgId)).verdict).toMatchObject({ valid: true, length: 10 });
  });

  it("reports only the failed tenant's first record, and appends the other tenants", async () => {
    const good = `org-${randomUUID()}`;
    const bad = `org-${randomUUID()}`;
    const goodRecords = ticketRecords(good, 3);
    const badRecords = ticketRecords(bad, 3);
    const interleaved = [goodRecords[0]!, badRecords[0]!, goodRecords[1]!, badRecords[1]!, badRecords[2]!, goodRecords[2]!];
    const { consumer, store } = instance({
      beforeCommit: (append) => {
        if (append.orgId === bad) throw new Error("throttled");
      },
    });

    const result = await consumer.consume(changes(interleaved));

    expect(result.failed).toEqual([badRecords[0]!.dynamodb!.SequenceNumber]);
    expect((await chainOf(store, good)).verdict).toMatchObject({ valid: true, length: 3 });
    expect(await store.head(bad)).toBeNull();
  });

  it("stops a tenant at a record it cannot audit, keeping the order of the rest", async () => {
    const orgId = `org-${randomUUID()}`;
    const records = ticketRecords(orgId, 4);
    delete records[2]!.dynamodb!.NewImage; // an INSERT without its image: the stream is misconfigured
    records[2]!.dynamodb!.OldImage = marshall({ pk: `T#${orgId}`, sk: "TICKET#3" }) as never;
    const { consumer, store } = instance();

    const result = await consumer.consume(changes(records));
    const { entries } = await chainOf(store, orgId);

    expect(result.failed).toEqual([records[2]!.dynamodb!.SequenceNumber]);
    expect(eventIds(entries)).toEqual(records.slice(0, 2).map((r) => r.eventID));
  });

  it("signs a checkpoint on a log's first append, then at most every N entries and after T seconds", async () => {
    const orgId = `org-${randomUUID()}`;
    let now = Date.parse("2026-03-02T09:00:00.000Z");
    const clock = { now: () => new Date(now) };
    const { consumer, store } = instance(undefined, { checkpointEvery: 10, checkpointSeconds: 60, clock });

    await consumer.consume(changes(ticketRecords(orgId, 3)));
    await consumer.consume(changes(ticketRecords(orgId, 22, 4)));
    now += 61_000;
    await consumer.consume(changes(ticketRecords(orgId, 1, 30)));
    const { checkpoints, verdict } = await chainOf(store, orgId);

    expect(checkpoints.map((c) => c.seq)).toEqual([3, 13, 23, 26]);
    expect(checkpoints.at(-1)!.time).toBe(new Date(now).toISOString());
    expect(verdict).toMatchObject({ valid: true, length: 26, checkpoints: { verified: 4, signaturesVerified: 4 } });
  });

  it("verifies a chain longer than one storage page", async () => {
    const orgId = `org-${randomUUID()}`;
    const { consumer, log } = instance();
    // Entries with a large summary, so that the 1 MB query pages split the chain.
    const big = ticketRecords(orgId, 60).map((r) => {
      const image = { ...(JSON.parse(JSON.stringify(r.dynamodb!.NewImage)) as Record<string, unknown>), body: { S: "x".repeat(40_000) } };
      return { ...r, dynamodb: { ...r.dynamodb!, NewImage: image as never } };
    });
    await consumer.consume(changes(big));

    const verdict = await log.verify(OPERATOR, { orgId });

    // Signed on the first append (49 records); the 11 after it wait for the next checkpoint.
    expect(verdict).toMatchObject({ valid: true, length: 60, firstInvalidSeq: null, unsignedFromSeq: 50 });
    expect(verdict.checkpoints).toEqual({ total: 1, verified: 1, signaturesVerified: 1, lastSeq: 49 });
  });

  describe("verify reads a consistent snapshot (defect 7)", () => {
    /** The store as `verify` sees it, with `before` run ahead of every read it makes: a commit lands between any two reads. */
    function interleaved(store: AuditStore, before: () => Promise<void>): AuditStore {
      return {
        ...store,
        head: async (orgId) => (await before(), store.head(orgId)),
        lastEntrySeq: async (orgId) => (await before(), store.lastEntrySeq(orgId)),
        entryPages: async function* (orgId, range) {
          await before();
          yield* store.entryPages(orgId, range);
        },
        checkpointPages: async function* (orgId) {
          await before();
          yield* store.checkpointPages(orgId);
        },
      };
    }

    it("never reports tampering when appends commit between its reads", async () => {
      const orgId = `org-${randomUUID()}`;
      // A checkpoint with every append, so each interleaved commit also adds a checkpoint past what was read.
      const writer = instance(undefined, { checkpointEvery: 1 });
      await writer.consumer.consume(changes(ticketRecords(orgId, 5)));
      let next = 100;
      const reader = interleaved(writer.store, async () => {
        await writer.consumer.consume(changes(ticketRecords(orgId, 3, next)));
        next += 3;
      });
      const log = createAuditLog({ store: reader, keys: createAuditKeyRegistry({ client: clients[0]!, table: platform.tableName }), orgs: { get: async (id) => ({ id }) as never } });

      const verdicts = [];
      for (let i = 0; i < 3; i++) verdicts.push(await log.verify(OPERATOR, { orgId }));

      for (const verdict of verdicts) expect(verdict).toMatchObject({ valid: true, firstInvalidSeq: null, reason: null });
      // Each verdict covers the head read first: the 5 entries plus the one append that preceded that read.
      expect(verdicts[0]!.length).toBe(8);
    });

    it("exports a snapshot that verifies when appends commit while it is read", async () => {
      const orgId = `org-${randomUUID()}`;
      const writer = instance(undefined, { checkpointEvery: 1 });
      await writer.consumer.consume(changes(ticketRecords(orgId, 5)));
      let next = 100;
      const reader = interleaved(writer.store, async () => {
        await writer.consumer.consume(changes(ticketRecords(orgId, 3, next)));
        next += 3;
      });
      const log = createAuditLog({ store: reader, keys: createAuditKeyRegistry({ client: clients[0]!, table: platform.tableName }), orgs: { get: async (id) => ({ id }) as never } });

      let text = "";
      for await (const chunk of await log.export(OPERATOR, { orgId })) text += chunk;
      const records = text.trim().split("\n").map((l) => JSON.parse(l));
      const verdict = verifyChain(records.filter((r) => r.kind === "entry"), records.filter((r) => r.kind === "checkpoint"), signing.publicKey, { orgId });

      expect(verdict).toMatchObject({ valid: true, reason: null });
    });

    it("still reports a tail removed together with its head, through the checkpoint left beyond it", async () => {
      const orgId = `org-${randomUUID()}`;
      const { consumer, store, log } = instance(undefined, { checkpointEvery: 1 });
      await consumer.consume(changes(ticketRecords(orgId, 4)));
      await consumer.consume(changes(ticketRecords(orgId, 2, 10)));
      const db = clients.at(-1)!;
      const head4 = { seq: 4, hash: (await chainOf(store, orgId)).entries[3]!.hash };

      // The attacker removes entries 5 and 6 and rolls the head back to 4; the checkpoint at 6 remains.
      for (const seq of [5, 6]) await db.send(new DeleteCommand({ TableName: platform.tableName, Key: tableKeys.auditEntry(orgId, seq) }));
      await db.send(new PutCommand({ TableName: platform.tableName, Item: { ...tableKeys.auditHead(orgId), entity: "auditHead", orgId, ...head4, lastCheckpointSeq: 4, lastCheckpointTime: new Date().toISOString() } }));
      const verdict = await log.verify(OPERATOR, { orgId });

      expect(verdict).toMatchObject({ valid: false, reason: "checkpoint_beyond_head", firstInvalidSeq: 5, length: 4 });
    });

    it("still reports an entry written beyond the chain head", async () => {
      const orgId = `org-${randomUUID()}`;
      const { consumer, store, log } = instance();
      await consumer.consume(changes(ticketRecords(orgId, 3)));
      const { entries } = await chainOf(store, orgId);
      const db = clients.at(-1)!;
      // Properly chained and hashed: only the head (still at seq 3) betrays it.
      const { v: _v, kind: _kind, seq: _seq, prevHash: _prev, hash, ...change } = entries[2]!;
      const [forged] = appendEntries({ seq: 3, hash }, [{ ...change, source: { eventId: "forged", sequenceNumber: "1" } }]);

      await db.send(new PutCommand({ TableName: platform.tableName, Item: { ...tableKeys.auditEntry(orgId, 4), entity: "auditEntry", orgId, json: JSON.stringify(forged) } }));
      const verdict = await log.verify(OPERATOR, { orgId });

      expect(verdict).toMatchObject({ valid: false, reason: "head_mismatch", firstInvalidSeq: 4, length: 3 });
    });
  });

  describe("coverage: changes known but not in the chain (defect 6)", () => {
    it("marks the records of a failed append pending, and verify reports them until a retry appends them", async () => {
      const orgId = `org-${randomUUID()}`;
      const records = ticketRecords(orgId, 4);
      let down = true;
      // The commit fails as it would while the database refuses writes; the marker writes still reach it.
      const flaky = instance({
        beforeCommit: () => {
          if (down) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
        },
      });
      await flaky.consumer.consume(changes(records.slice(0, 1)));
      down = false;
      await flaky.consumer.consume(changes(records.slice(0, 1)));
      down = true;

      const failed = await flaky.consumer.consume(changes(records.slice(1)));
      const during = await flaky.log.verify(OPERATOR, { orgId });
      down = false;
      const retried = await flaky.consumer.consume(changes(records.slice(1)));
      const after = await flaky.log.verify(OPERATOR, { orgId });
      const left = await flaky.store.pendingMarkers(orgId, 10);

      expect(failed.failed).toEqual([records[1]!.dynamodb!.SequenceNumber]);
      expect(during).toMatchObject({ valid: true, length: 1, coverage: { complete: false, pending: 3, pendingMore: false, lost: [] } });
      expect(Date.parse(during.coverage.pendingSince!)).toBeGreaterThan(Date.now() - 60_000);
      expect(retried.appended).toBe(3);
      expect(after).toMatchObject({ valid: true, length: 4, coverage: { complete: true, pending: 0 } });
      // The instance that marked them removed its markers once the records were in.
      expect(left.markers).toEqual([]);
    });

    it("does not count a marker whose record got its entry elsewhere (another instance appended it)", async () => {
      const orgId = `org-${randomUUID()}`;
      const records = ticketRecords(orgId, 2);
      const failing = instance({ beforeCommit: () => Promise.reject(new Error("throttled")) });
      await failing.consumer.consume(changes(records));
      const other = instance();

      await other.consumer.consume(changes(records));
      const verdict = await other.log.verify(OPERATOR, { orgId });
      const markers = await other.store.pendingMarkers(orgId, 10);

      // The markers are still there (another instance wrote them), but each record has its source marker.
      expect(markers.markers).toHaveLength(2);
      expect(verdict.coverage).toEqual({ complete: true, pending: 0, pendingMore: false, pendingSince: null, lost: [] });
    });

    it("reports stream ranges lost beyond retention since the organization exists", async () => {
      const orgId = `org-${randomUUID()}`;
      const { consumer, store } = instance();
      const registry = createAuditKeyRegistry({ client: clients[0]!, table: platform.tableName });
      await consumer.consume(changes(ticketRecords(orgId, 1)));
      const losses = createStreamLossLog({ client: clients[0]!, table: platform.tableName });
      const consumerName = `audit-${randomUUID()}`;
      const range = (from: string, lastRecordAt: string) => ({
        consumer: consumerName,
        shardId: "shardId-00000001",
        fromSequenceNumber: from,
        toSequenceNumber: String(BigInt(from) + 5n),
        firstRecordAt: lastRecordAt,
        lastRecordAt,
        recordedAt: new Date().toISOString(),
        reason: "TrimmedDataAccessException",
      });
      await losses.record(range("100", "2026-01-01T00:00:00Z")); // before the organization existed
      await losses.record(range("200", "2026-06-01T00:00:00Z"));
      await losses.record(range("200", "2026-06-01T00:00:00Z")); // recorded twice by a redrive that died: one range
      const log = createAuditLog({
        store,
        keys: registry,
        orgs: { get: async (id) => ({ id, createdAt: "2026-03-01T00:00:00.000Z" }) as never },
        lostRanges: () => losses.list(consumerName),
      });

      const verdict = await log.verify(OPERATOR, { orgId });

      expect(verdict.valid).toBe(true);
      expect(verdict.coverage).toMatchObject({ complete: false, pending: 0 });
      const { consumer: _consumer, recordedAt: _at, ...expected } = range("200", "2026-06-01T00:00:00Z");
      expect(verdict.coverage.lost).toEqual([{ ...expected, recordedAt: expect.any(String) }]);
    });
  });
});
