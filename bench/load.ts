/**
 * `npm run load`: the platform under load, with autocannon as the load generator.
 *
 * Starts `npm start`'s platform as a child process (its own ports and a temporary data folder), then
 * measures, 20 s each (LOAD_SECONDS), 100 concurrent clients (LOAD_CONNECTIONS):
 *
 * - the baseline, side by side in the same run: DynamoDB Local itself, driven by the same load
 *   generator over its own HTTP API (a GetItem; a TransactWriteItems of 4 puts), since every platform
 *   request is a few of those on the same two cores;
 * - a light read: `GET /api/v1/organizations` (an organization key sees one item: its own);
 * - a heavy read: `GET /api/v1/tickets?limit=25` (a page of 25 tickets with their SLA clocks, ~23 KB);
 * - a write: `POST /api/v1/tickets` (quota counter, number, ticket and history in one transaction, then
 *   its audit entry appended by the stream consumer, another transaction);
 * - noisy neighbour: a basic-tier tenant floods a read route with 80 clients (far beyond its rate
 *   limit) while 20 clients of another tenant read, against those 20 clients alone a moment before.
 *
 * Load clients are spread over four enterprise tenants whose rate limits the operator lifts (the load
 * measures the platform, not the limiter). Prints a table and writes bench/results/load.json with the
 * machine's load average and core count, since absolute figures on shared machines are noisy.
 */
import autocannon from "autocannon";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { printTable, writeResult } from "./lib";

const SECONDS = Number(process.env.LOAD_SECONDS ?? 20);
const CONNECTIONS = Number(process.env.LOAD_CONNECTIONS ?? 100);
const TENANTS = 4;

interface Target {
  api: string;
  operatorKey: string;
  /** DynamoDB Local's endpoint and the table, for the baseline rows. */
  dynamoDb: string;
  table: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/** `npm start`'s entry point in a child process, ready when it prints its banner. */
async function startChild(): Promise<Target> {
  const dataDir = mkdtempSync(join(tmpdir(), "agentorg-load-"));
  const [port, dynamoPort] = [await freePort(), await freePort()];
  const operatorKey = `op_load_${Date.now()}_${Math.random().toString(36).slice(2)}`;
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", resolve(import.meta.dirname, "../local/start.ts")], {
    env: { ...process.env, PORT: String(port), AGENTORG_DYNAMODB_PORT: String(dynamoPort), AGENTORG_DATA_DIR: dataDir, AGENTORG_OPERATOR_KEY: operatorKey, POWERTOOLS_LOG_LEVEL: "ERROR" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((ready, fail) => {
    const timer = setTimeout(() => fail(new Error("the platform did not start within 120 s")), 120_000);
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("agentorg is running")) {
        clearTimeout(timer);
        ready();
      }
    });
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("exit", (code) => fail(new Error(`the platform exited (${code}): ${output.slice(-2000)}`)));
  });
  // Logs of a server under load are its own business here.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    api: `http://localhost:${port}/api/v1`,
    operatorKey,
    dynamoDb: `http://127.0.0.1:${dynamoPort}/`,
    table: "agentorg",
    async stop() {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function json(url: string, key: string, init: { method?: string; body?: unknown } = {}): Promise<any> {
  const response = await fetch(url, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${key}`, ...(init.body ? { "content-type": "application/json" } : {}) },
    ...(init.body ? { body: JSON.stringify(init.body) } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/** A tenant with one key; `lifted`: the operator raises its rate limits to the highest allowed. */
async function tenant(target: Target, name: string, tier: string, lifted: boolean): Promise<string> {
  const org = await json(`${target.api}/organizations`, target.operatorKey, { method: "POST", body: { name, tier } });
  const key = await json(`${target.api}/organizations/${org.id}/api-keys`, target.operatorKey, { method: "POST", body: { name: "load" } });
  if (lifted) {
    await json(`${target.api}/organizations/${org.id}/rate-limits`, target.operatorKey, {
      method: "PUT",
      body: { organization: { requestsPerSecond: 500, burst: 10_000 }, apiKey: { requestsPerSecond: 500, burst: 10_000 } },
    });
  }
  return key.secret as string;
}

interface Row {
  scenario: string;
  connections: number;
  seconds: number;
  requests: number;
  "req/s": number;
  "p50 ms": number;
  "p99 ms": number;
  "max ms": number;
  "2xx": number;
  "429s": number;
  errors: number;
}

/** One autocannon run; requests rotate over `keys` (one tenant per key). */
async function run(scenario: string, url: string, keys: string[], connections: number, body?: () => unknown): Promise<Row> {
  let next = 0;
  return measure(scenario, url, connections, body ? "POST" : "GET", () => ({
    headers: { authorization: `Bearer ${keys[next++ % keys.length]!}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body()) } : {}),
  }));
}

/** DynamoDB Local's own API under the same load (it checks no signature; the header only has to be there). */
async function runDynamoDb(scenario: string, target: Target, operation: string, body: () => unknown): Promise<Row> {
  const headers = {
    "content-type": "application/x-amz-json-1.0",
    "x-amz-target": `DynamoDB_20120810.${operation}`,
    authorization: "AWS4-HMAC-SHA256 Credential=local/20261130/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
  };
  return measure(scenario, target.dynamoDb, CONNECTIONS, "POST", () => ({ headers, body: JSON.stringify(body()) }));
}

async function measure(scenario: string, url: string, connections: number, method: "GET" | "POST", request: () => { headers: Record<string, string>; body?: string }): Promise<Row> {
  const result = await autocannon({
    url,
    connections,
    duration: SECONDS,
    method,
    requests: [{ setupRequest: (base) => { const r = request(); return { ...base, headers: { ...base.headers, ...r.headers }, ...(r.body ? { body: r.body } : {}) }; } }],
  });
  const statuses = result.statusCodeStats as unknown as Record<string, { count: number }>;
  const count = (code: string) => statuses[code]?.count ?? 0;
  const ok = Object.entries(statuses).filter(([code]) => code.startsWith("2")).reduce((sum, [, s]) => sum + s.count, 0);
  return {
    scenario,
    connections,
    seconds: SECONDS,
    requests: result.requests.total,
    "req/s": Math.round(result.requests.average),
    "p50 ms": result.latency.p50,
    "p99 ms": result.latency.p99,
    "max ms": result.latency.max,
    "2xx": ok,
    "429s": count("429"),
    errors: result.errors + result.timeouts + (result.requests.total - ok - count("429")),
  };
}

async function main() {
  const loadBefore = loadavg();
  const target = await startChild();
  try {
    const keys = await Promise.all(Array.from({ length: TENANTS }, (_, i) => tenant(target, `Load ${i}`, "enterprise", true)));
    // Something to read: 25 tickets per tenant.
    for (const key of keys) {
      await Promise.all(Array.from({ length: 25 }, (_, i) => json(`${target.api}/tickets`, key, { method: "POST", body: { type: "incident", title: `Seed ${i}` } })));
    }
    const rows: Row[] = [];
    // The baseline: the database every request goes to, alone.
    rows.push(
      await runDynamoDb("baseline: DynamoDB Local GetItem", target, "GetItem", () => ({ TableName: target.table, Key: { pk: { S: "P#LOAD" }, sk: { S: "PROBE" } }, ConsistentRead: true })),
    );
    let put = 0;
    rows.push(
      await runDynamoDb("baseline: DynamoDB Local TransactWriteItems (4 puts)", target, "TransactWriteItems", () => {
        const n = put++;
        return { TransactItems: [0, 1, 2, 3].map((i) => ({ Put: { TableName: target.table, Item: { pk: { S: `P#LOAD#${n % 64}` }, sk: { S: `X#${n}#${i}` }, entity: { S: "loadProbe" }, v: { S: "x".repeat(400) } } } })) };
      }),
    );
    rows.push(await run("light read: GET /organizations (its own)", `${target.api}/organizations`, keys, CONNECTIONS));
    rows.push(await run("heavy read: GET /tickets?limit=25", `${target.api}/tickets?limit=25`, keys, CONNECTIONS));
    let n = 0;
    rows.push(await run("write: POST /tickets", `${target.api}/tickets`, keys, CONNECTIONS, () => ({ type: "incident", title: `Load ${n++}`, impact: 2, urgency: 2 })));

    // The noisy neighbour: 20 clients of a quiet tenant alone, then beside a basic tenant's flood.
    const quiet = await tenant(target, "Quiet neighbour", "enterprise", true);
    const noisy = await tenant(target, "Noisy basic tenant", "basic", false);
    const route = `${target.api}/organizations`;
    rows.push(await run("neighbour alone: GET /organizations", route, [quiet], 20));
    const [flood, neighbour] = await Promise.all([
      run("flood (basic tier, 80 clients)", route, [noisy], CONNECTIONS - 20),
      run("neighbour during the flood", route, [quiet], 20),
    ]);
    rows.push(flood, neighbour);

    printTable(rows as unknown as Record<string, string | number>[]);
    const loadAfter = loadavg();
    console.log(`\nmachine: ${cpus().length} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(" ")} before, ${loadAfter.map((l) => l.toFixed(2)).join(" ")} after`);
    writeResult("load", { seconds: SECONDS, connections: CONNECTIONS, cores: cpus().length, loadBefore, loadAfter, rows });
  } finally {
    await target.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
