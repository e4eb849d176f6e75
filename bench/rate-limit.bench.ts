/**
 * Cost of the rate limiter, side by side in one run against DynamoDB Local (in memory):
 *
 *   (a) baseline: one strongly consistent GetItem (what authenticating a key costs per read);
 *   (b) an admitted request: the limiter's two conditional UpdateItems (the key's bucket, then the
 *       organization's), each in its own partition;
 *   (c) a refused request that this process knows to be over the limit: the deny cache, no I/O;
 *   (d) the same refusal without the deny cache (cacheSize 0): one refused write each.
 *
 * Then a flood: 2,000 requests on a bucket of 10, one at a time (as a Lambda instance serves them) and
 * 50 at a time (as the local platform can), with and without the deny cache, counting the writes.
 * Interleaved rounds of (a) to (d) so they see the same machine load.
 *
 * Run: npm run bench -- rate-limit   (writes bench/results/rate-limit.json)
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../core/db/client";
import { createRateLimitStore } from "../core/db/rate-limit.repository";
import { createTableInput } from "../core/db/table";
import { perSecondPolicy } from "../core/ratelimit/gcra";
import { createRateLimiter } from "../core/ratelimit/limiter";
import type { RateLimitStore } from "../core/ratelimit/ports";
import { startDynamoDbLocal } from "../local/dynamodb";
import { median, percentile, printTable, writeResult } from "./lib";

const N = Number(process.env.BENCH_N ?? 200);
const FLOOD = 2_000;
const TABLE = "agentorg-bench";

// DynamoDB Local accepts any credentials, but the SDK wants some.
process.env.AWS_ACCESS_KEY_ID ??= "local";
process.env.AWS_SECRET_ACCESS_KEY ??= "local";
const db = await startDynamoDbLocal({ port: 0 });
const raw = new DynamoDBClient({ endpoint: db.endpoint, region: "us-east-1" });
await raw.send(new CreateTableCommand(createTableInput(TABLE)));
raw.destroy();
const client = createDocumentClient({ endpoint: db.endpoint, region: "us-east-1" });
const real = createRateLimitStore({ client, table: TABLE });

let writes = 0;
const counting: RateLimitStore = {
  restart: (...args) => ((writes += 1), real.restart(...args)),
  advance: (...args) => ((writes += 1), real.advance(...args)),
  rebase: (...args) => ((writes += 1), real.rebase(...args)),
};

const roomy = perSecondPolicy("organization", 500, 10_000);
const empty = perSecondPolicy("organization", 0.001, 1);
const withCache = createRateLimiter({ store: counting });
const withoutCache = createRateLimiter({ store: counting, cacheSize: 0 });
await client.send(new PutCommand({ TableName: TABLE, Item: { pk: "T#bench", sk: "ORG", entity: "organization", name: "Bench" } }));

const refused = (promise: Promise<unknown>) => promise.then(() => "ok", () => "429");
const admitted = () =>
  withCache.admit([
    { ref: { orgId: "bench", bucket: "key#k" }, policy: roomy },
    { ref: { orgId: "bench", bucket: "org" }, policy: roomy },
  ]);
// An empty bucket each limiter has already been refused by once.
await refused(withCache.admit([{ ref: { orgId: "bench", bucket: "full-a" }, policy: empty }]));
await refused(withCache.admit([{ ref: { orgId: "bench", bucket: "full-a" }, policy: empty }]));
await refused(withoutCache.admit([{ ref: { orgId: "bench", bucket: "full-b" }, policy: empty }]));
await refused(withoutCache.admit([{ ref: { orgId: "bench", bucket: "full-b" }, policy: empty }]));

const rows = {
  getItem: [] as number[],
  admitted: [] as number[],
  refusedCached: [] as number[],
  refusedUncached: [] as number[],
};
const time = async (into: number[], run: () => Promise<unknown>) => {
  const start = performance.now();
  await run();
  into.push(performance.now() - start);
};
for (let i = 0; i < 20; i++) await admitted(); // warm-up
for (let i = 0; i < N; i++) {
  await time(rows.getItem, () => client.send(new GetCommand({ TableName: TABLE, Key: { pk: "T#bench", sk: "ORG" }, ConsistentRead: true })));
  await time(rows.admitted, admitted);
  await time(rows.refusedCached, () => refused(withCache.admit([{ ref: { orgId: "bench", bucket: "full-a" }, policy: empty }])));
  await time(rows.refusedUncached, () => refused(withoutCache.admit([{ ref: { orgId: "bench", bucket: "full-b" }, policy: empty }])));
}

/**
 * FLOOD requests on a bucket of 10 (refilling once in 1,000 s), `inFlight` at a time: a Lambda instance
 * serves one request at a time (inFlight 1); the local platform serves many at once.
 */
async function flood(limiter: typeof withCache, bucket: string, inFlight: number) {
  writes = 0;
  const start = performance.now();
  const results: string[] = [];
  const policy = perSecondPolicy("organization", 0.001, 10);
  const worker = async () => {
    while (results.length + inFlightNow < FLOOD) {
      inFlightNow++;
      results.push(await refused(limiter.admit([{ ref: { orgId: "bench", bucket }, policy }])));
      inFlightNow--;
    }
  };
  let inFlightNow = 0;
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { inFlight, ms: performance.now() - start, admitted: results.filter((r) => r === "ok").length, writes };
}
const floods = [];
for (const inFlight of [1, 50]) {
  floods.push({ cache: "deny cache", ...(await flood(createRateLimiter({ store: counting }), `flood-a${inFlight}`, inFlight)) });
  floods.push({ cache: "no cache", ...(await flood(createRateLimiter({ store: counting, cacheSize: 0 }), `flood-b${inFlight}`, inFlight)) });
}

const summary = Object.entries(rows).map(([what, values]) => ({
  what,
  "p50 ms": median(values),
  "p99 ms": percentile(values, 0.99),
  "× GetItem p50": median(values) / median(rows.getItem),
}));
printTable(summary);
console.log();
printTable(floods.map((f) => ({ [`flood of ${FLOOD}, burst 10`]: f.cache, "in flight": f.inFlight, admitted: f.admitted, writes: f.writes, ms: f.ms })));
writeResult("rate-limit", { n: N, rows: summary, flood: { size: FLOOD, burst: 10, runs: floods } });

client.destroy();
await db.stop();
