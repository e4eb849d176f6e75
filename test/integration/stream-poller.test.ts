import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendFileSync, mkdtempSync, readFileSync, existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomUUID } from "node:crypto";
import { DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { Platform } from "../../local/platform";
import { createStreamPoller, type StreamPollerOptions } from "../../local/stream-poller";
import { eventually, startTestPlatform } from "../support/platform";

let platform: Platform;
let db: DynamoDBDocumentClient;
let streamArn: string;

beforeAll(async () => {
  // This file's items are the poller's test data (`P#<run>`, with a `run`), not an application's entity type.
  platform = await startTestPlatform({ consumers: [] }, { foreignItem: (item) => typeof item.run === "string" && String(item.pk).startsWith("P#") });
  const raw = new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" });
  db = DynamoDBDocumentClient.from(raw);
  streamArn = (await raw.send(new DescribeTableCommand({ TableName: platform.tableName }))).Table!.LatestStreamArn!;
});
afterAll(async () => {
  await platform?.stop();
});

type Handler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

/** A poller with one consumer that only sees this test's items (filtered on their `run` attribute). */
function pollerFor(run: string, handler: Handler, extra: Partial<StreamPollerOptions> = {}) {
  const spec = {
    name: `test-${run}`,
    handler: "unused",
    filterPatterns: [{ dynamodb: { NewImage: { run: { S: [run] } } } }],
    batchSize: 10,
    permissions: [],
  };
  return createStreamPoller({
    endpoint: platform.dynamoDbEndpoint,
    region: "us-east-1",
    streamArn,
    consumers: [spec],
    resolveHandler: () => handler,
    pollIntervalMs: 50,
    log: () => undefined,
    ...extra,
  });
}

async function put(run: string, n: number, extra: Record<string, unknown> = {}) {
  await db.send(new PutCommand({ TableName: platform.tableName, Item: { pk: `P#${run}`, sk: `ITEM#${String(n).padStart(3, "0")}`, run, n, ...extra } }));
}

const numberOf = (record: DynamoDBRecord) => Number(record.dynamodb!.NewImage!.n!.N);

describe("stream poller (local event source mapping)", () => {
  it("delivers Lambda-shaped records in write order", async () => {
    const run = randomUUID();
    const seen: DynamoDBRecord[] = [];
    const poller = pollerFor(run, async (event) => void seen.push(...event.Records));
    for (let n = 1; n <= 5; n++) await put(run, n);

    poller.start();
    await eventually(async () => (seen.length >= 5 ? true : undefined));
    await poller.stop();

    expect(seen.map(numberOf)).toEqual([1, 2, 3, 4, 5]);
    const record = seen[0]!;
    expect(record).toMatchObject({ eventName: "INSERT", eventSource: "aws:dynamodb", eventSourceARN: streamArn, awsRegion: "us-east-1" });
    expect(typeof record.dynamodb!.ApproximateCreationDateTime).toBe("number");
    expect(record.dynamodb!.ApproximateCreationDateTime!).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(record.dynamodb!.NewImage!.run).toEqual({ S: run });
    expect(record.dynamodb!.StreamViewType).toBe("NEW_AND_OLD_IMAGES");
  });

  it("drops records that do not match the filter", async () => {
    const run = randomUUID();
    const seen: DynamoDBRecord[] = [];
    const poller = pollerFor(run, async (event) => void seen.push(...event.Records));
    await put(run, 1);
    await put(`${run}-other`, 2);
    await put(run, 3);

    poller.start();
    await eventually(async () => (seen.length >= 2 ? true : undefined));
    await poller.drained();
    await poller.stop();

    expect(seen.map(numberOf)).toEqual([1, 3]);
  });

  it("resumes a partial batch failure at the first failed record", async () => {
    const run = randomUUID();
    const deliveries: number[][] = [];
    let failedOnce = false;
    const poller = pollerFor(run, async (event) => {
      deliveries.push(event.Records.map(numberOf));
      const third = event.Records.find((r) => numberOf(r) === 3);
      if (third && !failedOnce) {
        failedOnce = true;
        return { batchItemFailures: [{ itemIdentifier: third.dynamodb!.SequenceNumber! }] };
      }
      return { batchItemFailures: [] };
    });
    for (let n = 1; n <= 5; n++) await put(run, n);

    poller.start();
    await eventually(async () => (deliveries.flat().includes(5) && deliveries.length >= 2 ? true : undefined));
    await poller.drained();
    await poller.stop();

    // Batches hold whatever one GetRecords returned after filtering, so where they split varies;
    // what must hold: the failed batch is retried from record 3 on, and nothing before it is redelivered.
    const failing = deliveries.findIndex((d) => d.includes(3));
    const count = (n: number) => deliveries.flat().filter((m) => m === n).length;
    expect(deliveries[failing + 1]?.[0]).toBe(3);
    expect(deliveries[failing + 1]).toEqual(deliveries[failing]!.slice(deliveries[failing]!.indexOf(3)));
    expect([count(1), count(2), count(3)]).toEqual([1, 1, 2]);
  });

  it("bisects a batch whose handler throws and parks the poison record after the retries", async () => {
    const run = randomUUID();
    const processed = new Set<number>();
    const failureFile = join(mkdtempSync(join(tmpdir(), "poller-")), "failures.jsonl");
    const poller = pollerFor(
      run,
      async (event) => {
        if (event.Records.some((r) => numberOf(r) === 2)) throw new Error("poison");
        for (const r of event.Records) processed.add(numberOf(r));
      },
      { maxRetries: 1, failureFile },
    );
    for (let n = 1; n <= 4; n++) await put(run, n);

    poller.start();
    await eventually(async () => (existsSync(failureFile) && processed.has(4) ? true : undefined));
    await poller.stop();

    expect([...processed].sort()).toEqual([1, 3, 4]);
    const parked = readFileSync(failureFile, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(parked).toHaveLength(1);
    expect(parked[0].record.dynamodb.NewImage.n).toEqual({ N: "2" });
  });

  it("resumes after a restart from its checkpoint, without redelivering", async () => {
    const run = randomUUID();
    const checkpointFile = join(mkdtempSync(join(tmpdir(), "poller-")), "checkpoints.json");
    const seen: number[] = [];
    const handler: Handler = async (event) => void seen.push(...event.Records.map(numberOf));
    const first = pollerFor(run, handler, { checkpointFile });
    await put(run, 1);
    await put(run, 2);
    first.start();
    await eventually(async () => (seen.length >= 2 ? true : undefined));
    await first.drained();
    await first.stop();

    await put(run, 3);
    const second = pollerFor(run, handler, { checkpointFile });
    second.start();
    await eventually(async () => (seen.includes(3) ? true : undefined));
    await second.drained();
    await second.stop();

    expect(seen).toEqual([1, 2, 3]);
  });

  it("retries a failing batch like the deployed mapping (10 retries with backoff) before parking it", async () => {
    const run = randomUUID();
    const failureFile = join(mkdtempSync(join(tmpdir(), "poller-")), "failures.jsonl");
    let calls = 0;
    const seen: number[] = [];
    // Fails six times (a dependency restarting), then works: within the mapping's retries, so nothing is parked.
    const poller = pollerFor(
      run,
      async (event) => {
        calls += 1;
        if (calls <= 6) return { batchItemFailures: [{ itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber! }] };
        seen.push(...event.Records.map(numberOf));
        return { batchItemFailures: [] };
      },
      { failureFile, retry: { baseDelayMs: 5, maxDelayMs: 20 } },
    );
    await put(run, 1);

    poller.start();
    await eventually(async () => (seen.includes(1) ? true : undefined));
    await poller.drained();
    await poller.stop();

    expect(calls).toBe(7);
    expect(existsSync(failureFile) ? readFileSync(failureFile, "utf8") : "").toBe("");
  });

  describe("redrive of parked records", () => {
    /** Real records of this run, parked by a poller whose consumer always fails. */
    async function parkedRecords(run: string, n: number, failureFile: string): Promise<DynamoDBRecord[]> {
      // The checkpoint is shared with the poller under test, which must see the records only from the file.
      const parker = pollerFor(run, async () => {
        throw new Error("dependency down");
      }, { failureFile, maxRetries: 0, checkpointFile: `${failureFile}.checkpoints` });
      for (let i = 1; i <= n; i++) await put(run, i);
      parker.start();
      await eventually(async () => (existsSync(failureFile) && readFileSync(failureFile, "utf8").split("\n").filter((l) => l.endsWith("}")).length >= n ? true : undefined));
      await parker.drained();
      await parker.stop();
      return readFileSync(failureFile, "utf8").trim().split("\n").filter((l) => l.endsWith("}")).map((l) => JSON.parse(l).record as DynamoDBRecord);
    }

    it("replays a parked file once the consumer works, and empties it", async () => {
      const run = randomUUID();
      const failureFile = join(mkdtempSync(join(tmpdir(), "poller-")), "failures.jsonl");
      const records = await parkedRecords(run, 3, failureFile);
      // A line written by hand in the file's oldest format (no attempts, no times) is replayed too.
      const handWritten = { ...records[0]!, eventID: "hand-written", dynamodb: { ...records[0]!.dynamodb!, NewImage: { ...records[0]!.dynamodb!.NewImage!, n: { N: "9" } } } };
      appendFileSync(failureFile, JSON.stringify({ consumer: `test-${run}`, record: handWritten }) + "\n");
      const seen: number[] = [];
      const poller = pollerFor(run, async (event) => void seen.push(...event.Records.map(numberOf)), { failureFile, checkpointFile: `${failureFile}.checkpoints`, redrive: { intervalMs: 20 } });

      expect(poller.status().parkedRecords).toBe(4);
      poller.start();
      await eventually(async () => (seen.length >= 4 ? true : undefined));
      await eventually(async () => (poller.status().parkedRecords === 0 ? true : undefined));
      await poller.stop();

      expect(seen.sort()).toEqual([1, 2, 3, 9]);
      expect(readFileSync(failureFile, "utf8")).toBe("");
    });

    it("keeps parked records in memory when there is no failure file, and replays them too", async () => {
      const run = randomUUID();
      let working = false;
      const seen: number[] = [];
      const poller = pollerFor(run, async (event) => {
        if (!working) throw new Error("dependency down");
        seen.push(...event.Records.map(numberOf));
      }, { maxRetries: 0, redrive: { intervalMs: 20, baseDelayMs: 20 } });
      await put(run, 1);

      poller.start();
      await eventually(async () => (poller.status().parkedRecords === 1 ? true : undefined));
      working = true;
      await eventually(async () => (seen.includes(1) && poller.status().parkedRecords === 0 ? true : undefined));
      await poller.stop();

      expect(seen).toEqual([1]);
    });

    it("keeps what fails again (with its attempts and a later retry time) and every line it cannot read", async () => {
      const run = randomUUID();
      const failureFile = join(mkdtempSync(join(tmpdir(), "poller-")), "failures.jsonl");
      await parkedRecords(run, 3, failureFile);
      appendFileSync(failureFile, '{"consumer": "cut short by a cra');
      const seen: number[] = [];
      // Record 2 still fails; 1 and 3 go through.
      const poller = pollerFor(run, async (event) => {
        // Like the audit consumer: records are handled in order, and handling stops at the failed one.
        const two = event.Records.findIndex((r) => numberOf(r) === 2);
        seen.push(...event.Records.slice(0, two < 0 ? undefined : two).map(numberOf));
        if (two >= 0) return { batchItemFailures: [{ itemIdentifier: event.Records[two]!.dynamodb!.SequenceNumber! }] };
      }, { failureFile });

      const pass = await poller.redrivePass();
      const lines = readFileSync(failureFile, "utf8").trim().split("\n");
      const again = await poller.redrivePass();
      await poller.stop();

      // The batch is replayed up to the failed record; what follows it is retried next time.
      expect(pass).toEqual({ replayed: 1, failed: 2, remaining: 3 });
      expect(lines).toHaveLength(3);
      const kept = lines.slice(0, 2).map((l) => JSON.parse(l));
      expect(kept.map((l) => numberOf(l.record))).toEqual([2, 3]);
      expect(kept[0]).toMatchObject({ attempts: 1, lastError: "partial batch failure" });
      expect(kept[0].nextAttemptAt).toBeGreaterThan(Date.now() - 1000);
      expect(lines[2]).toBe('{"consumer": "cut short by a cra');
      // Not due yet: the next pass leaves them alone.
      expect(again).toEqual({ replayed: 0, failed: 0, remaining: 3 });
      expect(seen).toEqual([1]);
    });

    it("starts a parked record on a new line after a line a crash cut short", async () => {
      const run = randomUUID();
      const failureFile = join(mkdtempSync(join(tmpdir(), "poller-")), "failures.jsonl");
      writeFileSync(failureFile, '{"consumer": "cut sho');

      await parkedRecords(run, 1, failureFile);
      const lines = readFileSync(failureFile, "utf8").trim().split("\n");

      expect(lines[0]).toBe('{"consumer": "cut sho');
      expect(JSON.parse(lines[1]!).record.dynamodb.NewImage.run).toEqual({ S: run });
    });
  });
});
