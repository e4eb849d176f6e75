/**
 * Audit consumer throughput against DynamoDB Local, for one tenant and for 20 tenants:
 *
 *   PATH=node_modules/.bin:$PATH tsx bench/audit-consumer.bench.ts [records=2000] [repetitions=3]
 *
 * Two paths, each on a fresh in-memory DynamoDB Local (its throughput drops as stream records pile up,
 * so no run inherits another's stream):
 *
 * - "stream": ticket items are written to the table first; then a stream poller (local/stream-poller.ts,
 *   the local event source mapping) with the manifest's audit consumer spec (filter, batch size) and the
 *   real handler (functions/stream/audit.ts) reads the whole stream. Timed: poller start until the
 *   last entry is committed. This is the local stack end to end: GetRecords, filtering, unmarshalling,
 *   hashing, signing, transactions.
 * - "consumer": the same records handed to the consumer in batches of 100 directly, without the
 *   poller: the consumer's own cost (reads of head and markers, transactions). Also per-batch latency.
 *
 * Entries per second are medians over the repetitions; latencies are medians and p99 over all batches.
 * DynamoDB Local is not DynamoDB: read the ratios (20 tenants vs 1, stream vs consumer), not the
 * absolute numbers. Writes bench/results/audit-consumer.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { createAuditLog } from "../core/audit/audit-log";
import { OPERATOR } from "../core/auth/principal";
import { createAuditKeyRegistry, createAuditStore } from "../core/db/audit.repository";
import { keys } from "../core/db/keys";
import { createTableInput } from "../core/db/table";
import { toStreamChangeRecord } from "../core/db/audit-stream";
import { auditConsumer } from "../functions/manifest/audit";
import { logger } from "../functions/lib/logger";
import { auditConsumer as consumerOfPlatform } from "../functions/lib/services/audit";
import { handler as auditHandler } from "../functions/stream/audit";
import { startPlatform, type Platform } from "../local/platform";
import { createStreamPoller } from "../local/stream-poller";

const RECORDS = Number(process.argv[2] ?? 2_000);
const REPETITIONS = Number(process.argv[3] ?? 3);
const TENANT_COUNTS = [1, 20];
const BATCH = auditConsumer.batchSize;
const WARM_UP_TRANSACTIONS = 60;

logger.setLogLevel("SILENT");

const orgIds = (n: number, run: string) => Array.from({ length: n }, (_, i) => `bench${run}t${String(i).padStart(2, "0")}`);

/** A ticket item like the platform's: a title, a status, a nested triage map, its writer. */
function ticket(orgId: string, i: number) {
  return {
    ...{ pk: keys.tenantPk(orgId), sk: `TICKET#${String(i).padStart(8, "0")}` },
    entity: "ticket",
    id: `tkt_${i}`,
    orgId,
    title: `Ticket ${i}: Drucker im 2. OG druckt nicht – «dringend»`,
    status: "open",
    priority: i % 5,
    triage: { category: "hardware", confidence: 0.87 },
    updatedAt: new Date().toISOString(),
    updatedBy: `agent:agt_${i % 7}`,
  };
}

/**
 * A fresh DynamoDB Local's JVM is several times slower for its first few hundred transactions. Warm
 * it on a table of its own without a stream, so the measured table's stream holds only the run's records.
 */
async function warmUp(db: DynamoDBDocumentClient, endpoint: string): Promise<void> {
  const admin = new DynamoDBClient({ endpoint, region: "us-east-1" });
  const { StreamSpecification: _noStream, ...input } = createTableInput("agentorg-warmup");
  await admin.send(new CreateTableCommand(input));
  admin.destroy();
  for (let round = 0; round < WARM_UP_TRANSACTIONS; round += 1) {
    const items = Array.from({ length: 99 }, (_, i) => ({ pk: `W#${round % 3}`, sk: `I#${round}#${i}`, json: "x".repeat(500) }));
    await db.send(new TransactWriteCommand({ TransactItems: items.map((Item) => ({ Put: { TableName: "agentorg-warmup", Item, ConditionExpression: "attribute_not_exists(pk)" } })) }));
    await db.send(new BatchGetCommand({ RequestItems: { "agentorg-warmup": { Keys: items.slice(0, 49).map(({ pk, sk }) => ({ pk, sk })), ConsistentRead: true } } }));
  }
}

async function withPlatform<T>(run: (platform: Platform, db: DynamoDBDocumentClient) => Promise<T>): Promise<T> {
  const platform = await startPlatform({ port: 0, tableName: "agentorg-bench", consumers: [] });
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
  try {
    await warmUp(db, platform.dynamoDbEndpoint);
    return await run(platform, db);
  } finally {
    db.destroy();
    await platform.stop();
  }
}

/** Round-robin over the tenants, so every batch holds records of all of them. */
async function writeItems(db: DynamoDBDocumentClient, table: string, tenants: string[]): Promise<void> {
  const items = Array.from({ length: RECORDS }, (_, i) => ticket(tenants[i % tenants.length]!, i));
  for (let i = 0; i < items.length; i += 25) {
    await db.send(new BatchWriteCommand({ RequestItems: { [table]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

async function appendedSoFar(db: DynamoDBDocumentClient, table: string, tenants: string[]): Promise<number> {
  const heads = await Promise.all(tenants.map((orgId) => db.send(new GetCommand({ TableName: table, Key: keys.auditHead(orgId), ConsistentRead: true }))));
  return heads.reduce((n, h) => n + ((h.Item?.seq as number | undefined) ?? 0), 0);
}

/** The whole local path: stream poller -> filter -> audit handler -> DynamoDB. */
async function streamRun(tenantCount: number, run: string): Promise<{ seconds: number }> {
  return withPlatform(async (platform, db) => {
    const tenants = orgIds(tenantCount, run);
    await writeItems(db, platform.tableName, tenants);
    const admin = new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" });
    const streamArn = (await admin.send(new DescribeTableCommand({ TableName: platform.tableName }))).Table!.LatestStreamArn!;
    admin.destroy();
    const poller = createStreamPoller({
      endpoint: platform.dynamoDbEndpoint,
      region: "us-east-1",
      streamArn,
      consumers: [auditConsumer],
      resolveHandler: () => auditHandler,
      pollIntervalMs: 20,
      log: () => undefined,
    });
    const start = performance.now();
    poller.start();
    while ((await appendedSoFar(db, platform.tableName, tenants)) < RECORDS) await new Promise((r) => setTimeout(r, 20));
    const seconds = (performance.now() - start) / 1000;
    await poller.stop();
    return { seconds };
  });
}

/** The consumer alone, fed Lambda-shaped batches of 100 directly. */
async function consumerRun(tenantCount: number, run: string): Promise<{ seconds: number; batchMs: number[]; verifyPerSecond: number | null }> {
  return withPlatform(async (platform, db) => {
    const tenants = orgIds(tenantCount, run);
    const records: DynamoDBRecord[] = Array.from({ length: RECORDS }, (_, i) => {
      const item = ticket(tenants[i % tenants.length]!, i);
      return {
        eventID: `${run}-${i}`,
        eventName: "INSERT",
        eventSource: "aws:dynamodb",
        awsRegion: "us-east-1",
        dynamodb: {
          ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
          Keys: { pk: { S: item.pk }, sk: { S: item.sk } },
          NewImage: marshallTicket(item),
          SequenceNumber: String(1e20 + i),
          SizeBytes: 300,
          StreamViewType: "NEW_AND_OLD_IMAGES",
        },
      };
    });
    const consumer = await consumerOfPlatform();
    const batchMs: number[] = [];
    const start = performance.now();
    for (let i = 0; i < records.length; i += BATCH) {
      const event: DynamoDBStreamEvent = { Records: records.slice(i, i + BATCH) };
      const t = performance.now();
      const result = await consumer.consume(event.Records.map(toStreamChangeRecord));
      batchMs.push(performance.now() - t);
      if (result.failed.length) throw new Error(`batch failed: ${result.failed.length} tenants`);
    }
    const seconds = (performance.now() - start) / 1000;
    const appended = await appendedSoFar(db, platform.tableName, tenants);
    if (appended !== RECORDS) throw new Error(`expected ${RECORDS} entries, found ${appended}`);

    // GET /audit/verify's work on the one tenant's whole chain: read every page, recompute, check the checkpoints.
    if (tenantCount !== 1) return { seconds, batchMs, verifyPerSecond: null };
    const reader = createAuditLog({ store: createAuditStore({ client: db, table: platform.tableName }), keys: createAuditKeyRegistry({ client: db, table: platform.tableName }), orgs: { get: async (id) => ({ id }) as never } });
    const v = performance.now();
    const verdict = await reader.verify(OPERATOR, { orgId: tenants[0]! });
    const verifySeconds = (performance.now() - v) / 1000;
    if (!verdict.valid || verdict.length !== RECORDS / tenantCount) throw new Error(`verify: ${JSON.stringify(verdict)}`);
    return { seconds, batchMs, verifyPerSecond: verdict.length / verifySeconds };
  });
}

function marshallTicket(item: ReturnType<typeof ticket>) {
  return {
    pk: { S: item.pk },
    sk: { S: item.sk },
    entity: { S: item.entity },
    id: { S: item.id },
    orgId: { S: item.orgId },
    title: { S: item.title },
    status: { S: item.status },
    priority: { N: String(item.priority) },
    triage: { M: { category: { S: item.triage.category }, confidence: { N: String(item.triage.confidence) } } },
    updatedAt: { S: item.updatedAt },
    updatedBy: { S: item.updatedBy },
  } as never;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

interface Row {
  path: "stream" | "consumer";
  tenants: number;
  entriesPerSecond: number[];
  batchMs: number[];
  verifyPerSecond: number[];
}

const rows: Row[] = [];
for (const path of ["consumer", "stream"] as const) for (const tenants of TENANT_COUNTS) rows.push({ path, tenants, entriesPerSecond: [], batchMs: [], verifyPerSecond: [] });

// Interleaved: each repetition runs every row once, so slow moments of a shared machine hit all rows alike.
for (let rep = 0; rep < REPETITIONS; rep += 1) {
  for (const row of rows) {
    const run = `${row.path[0]}${row.tenants}r${rep}`;
    if (row.path === "stream") {
      const { seconds } = await streamRun(row.tenants, run);
      row.entriesPerSecond.push(RECORDS / seconds);
    } else {
      const { seconds, batchMs, verifyPerSecond } = await consumerRun(row.tenants, run);
      row.entriesPerSecond.push(RECORDS / seconds);
      row.batchMs.push(...batchMs);
      if (verifyPerSecond !== null) row.verifyPerSecond.push(verifyPerSecond);
    }
    process.stderr.write(".");
  }
}
process.stderr.write("\n");

const baseline = (path: Row["path"]) => median(rows.find((r) => r.path === path && r.tenants === 1)!.entriesPerSecond);
const results = rows.map((row) => ({
  path: row.path,
  tenants: row.tenants,
  entriesPerSecondMedian: median(row.entriesPerSecond),
  entriesPerSecondWorst: Math.min(...row.entriesPerSecond),
  vsOneTenant: median(row.entriesPerSecond) / baseline(row.path),
  batchMsMedian: row.batchMs.length ? median(row.batchMs) : null,
  batchMsP99: row.batchMs.length ? percentile(row.batchMs, 99) : null,
  verifiedEntriesPerSecond: row.verifyPerSecond.length ? median(row.verifyPerSecond) : null,
}));

const fmt = (n: number | null, digits = 0) => (n === null ? "-" : n.toFixed(digits));
console.log(`audit consumer: ${RECORDS} records per run, batches of ${BATCH}, ${REPETITIONS} interleaved repetitions; node ${process.version}`);
console.log("");
console.log(`${"path".padEnd(10)}${"tenants".padStart(8)}${"entries/s".padStart(11)}${"worst".padStart(8)}${"x 1 tenant".padStart(12)}${"batch ms".padStart(10)}${"p99 ms".padStart(9)}${"verify/s".padStart(10)}`);
for (const r of results) {
  console.log(
    `${r.path.padEnd(10)}${String(r.tenants).padStart(8)}${fmt(r.entriesPerSecondMedian).padStart(11)}${fmt(r.entriesPerSecondWorst).padStart(8)}` +
      `${fmt(r.vsOneTenant, 2).padStart(12)}${fmt(r.batchMsMedian, 1).padStart(10)}${fmt(r.batchMsP99, 1).padStart(9)}${fmt(r.verifiedEntriesPerSecond).padStart(10)}`,
  );
}
console.log("\nentries/s: audit entries committed per second (median of the repetitions); batch ms: one consume() of 100 records;");
console.log("verify/s: entries per second GET /audit/verify reads and checks (the 1-tenant chain, from DynamoDB Local).");

const out = join(dirname(new URL(import.meta.url).pathname), "results/audit-consumer.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: "audit-consumer",
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpu: cpus()[0]?.model ?? "unknown",
      records: RECORDS,
      batchSize: BATCH,
      repetitions: REPETITIONS,
      results: results.map((r) => ({
        ...r,
        entriesPerSecondMedian: Number(fmt(r.entriesPerSecondMedian, 1)),
        entriesPerSecondWorst: Number(fmt(r.entriesPerSecondWorst, 1)),
        vsOneTenant: Number(fmt(r.vsOneTenant, 3)),
        batchMsMedian: r.batchMsMedian === null ? null : Number(fmt(r.batchMsMedian, 2)),
        batchMsP99: r.batchMsP99 === null ? null : Number(fmt(r.batchMsP99, 2)),
        verifiedEntriesPerSecond: r.verifiedEntriesPerSecond === null ? null : Number(fmt(r.verifiedEntriesPerSecond, 1)),
      })),
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${out}`);
