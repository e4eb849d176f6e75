/**
 * DynamoDB round trips on the latency path of four request kinds (issue 11): chat completion, ticket
 * creation, usage read, WebSocket chat turn. Every DynamoDB call the handlers make is recorded by a
 * middleware on the functions' own client (start, end, command, consumed capacity); a request's
 * *stages* are its calls grouped by overlap in time (calls made in parallel are one stage), so stages
 * are the serial round trips a caller waits for.
 *
 * Each kind runs warm (its function already started) in two states: back to back (within the
 * credential check's 2 s cache, the common case of a tenant with traffic) and after the cache expired.
 *
 * The stream consumers' calls (the audit log's appends, the realtime fan-out) are off the request's
 * path and not in its stages, but they are part of what a request costs: each call is attributed to
 * the function that made it (local/permission-guard.ts `currentInvocation`), and after every request
 * the bench waits for the stream poller to deliver its records, so the consumers' units per request
 * are measured too. Each request's records then make a batch of their own: the costliest case (a quiet
 * tenant), since an append's fixed part (the chain head) is shared by every record of a batch.
 *
 * Read units are DynamoDB Local's ConsumedCapacity. Write units are priced by bench/write-units.ts from
 * the images of the items each write touches (DynamoDB Local under-reports transactions and leaves out
 * the index); $ per million requests at us-east-1 on-demand list prices: $0.625 per million write
 * request units, $0.125 per million read request units.
 *
 * Run: npm run bench -- round-trips   (writes bench/results/round-trips.json)
 */
import WebSocket from "ws";
import { startPlatform } from "../local/platform";
import { table } from "../functions/lib/services/table";
import { startFakeOpenAI } from "../test/support/fake-openai";
import { LIFTED_RATE_LIMITS } from "../test/support/platform";
import { currentInvocation } from "../local/permission-guard";
import { createWriteMeter } from "./write-units";
import { CREDENTIAL_CHECK_TTL_MS } from "../core/tenants/api-keys";
import { median, printTable, writeResult } from "./lib";

const SAMPLES = Number(process.env.SAMPLES ?? 7);
const WRU_USD = 0.625 / 1e6;
const RRU_USD = 0.125 / 1e6;

interface Call {
  command: string;
  /** Whether a stream consumer made it (off the request's path). */
  consumer: boolean;
  start: number;
  end: number;
  rcu: number;
  wcu: number;
}

process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
const fake = await startFakeOpenAI();
fake.respond(() => ({ chunks: ["The ", "answer ", "is ", "forty-two."] }));
const platform = await startPlatform({
  port: 0,
  tableName: "agentorg-round-trips",
  env: { AGENTORG_SLM_BASE_URL: fake.baseURL, AGENTORG_LLM_BASE_URL: fake.baseURL, POWERTOOLS_LOG_LEVEL: "SILENT" },
});
const operator = { authorization: `Bearer ${platform.operatorKey}`, "content-type": "application/json" };
const request = async (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
  const response = await fetch(`${platform.apiUrl}${path}`, {
    method: init.method ?? (init.body === undefined ? "GET" : "POST"),
    headers: init.headers ?? operator,
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const body = (await response.json()) as any;
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
  return body;
};
const org = await request("/organizations", { body: { name: "Round trips", tier: "enterprise" } });
// Lifted rate limits: the bench measures round trips, not the limiter's refusals.
await request(`/organizations/${org.id}/rate-limits`, {
  method: "PUT",
  body: LIFTED_RATE_LIMITS,
});
const key = (await request(`/organizations/${org.id}/api-keys`, { body: { name: "bench" } })).secret as string;
const tenant = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const agent = await request("/agents", { body: { name: "Sol", roleId: "ceo" }, headers: tenant });

const ws = new WebSocket(platform.wsUrl, { headers: { authorization: `Bearer ${key}` } });
await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
let turnDone: (() => void) | undefined;
ws.on("message", (data) => {
  const frame = JSON.parse(data.toString()) as { type: string };
  if (frame.type === "chat.done" || frame.type === "error") turnDone?.();
});

const kinds: Record<string, () => Promise<unknown>> = {
  "chat completion": () => request("/chat/completions", { body: { model: "auto", messages: [{ role: "user", content: "What is the capital of France?" }] }, headers: tenant }),
  "ticket creation": () => request("/tickets", { body: { type: "incident", title: "Printer on fire", impact: 2, urgency: 2 }, headers: tenant }),
  "usage read": () => request(`/organizations/${org.id}/usage`, { headers: tenant }),
  "WebSocket chat turn": () =>
    new Promise<void>((resolve) => {
      turnDone = resolve;
      ws.send(JSON.stringify({ action: "chat", agentId: agent.id, message: "What is the capital of France?" }));
    }),
};

// Warm every function once (cold starts are bench/bundles.bench.ts's), the consumers included.
for (const run of Object.values(kinds)) await run();
await platform.poller.drained();

let calls: Call[] = [];
const client = table().client;
const meter = createWriteMeter(process.env.DYNAMODB_ENDPOINT!);
client.middlewareStack.add(
  (next, context) => async (args) => {
    const input = args.input as Record<string, unknown>;
    input.ReturnConsumedCapacity ??= "TOTAL";
    const command = String(context.commandName ?? "?").replace(/Command$/, "");
    const writes = /^(Put|Update|Delete|TransactWrite|BatchWrite)/.test(command);
    // Writes are priced from the items' images, read around the call. The call's stage is timed from
    // when it was made: the image read delays it, and calls made together must stay one stage.
    const start = performance.now();
    const priced = writes ? await meter.before(command, input) : undefined;
    let result: Awaited<ReturnType<typeof next>> | undefined;
    let failure: unknown;
    try {
      result = await next(args);
    } catch (error) {
      failure = error; // a write whose condition failed is billed all the same
    }
    const end = performance.now();
    const consumed = (result?.output as { ConsumedCapacity?: unknown } | undefined)?.ConsumedCapacity;
    const list = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []) as { CapacityUnits?: number }[];
    const units = writes ? await priced!().then((u) => u.table + u.index) : list.reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
    const consumer = currentInvocation()?.function.startsWith("functions/stream/") ?? false;
    calls.push({ command: `${command}(${describeKeys(input)})${units ? `[${units}${writes ? "w" : "r"}]` : ""}${failure ? "!" : ""}`, consumer, start, end, rcu: writes ? 0 : units, wcu: writes ? units : 0 });
    if (failure) throw failure;
    return result!;
  },
  { step: "serialize", name: "roundTripRecorder", priority: "high" },
);

/** The item kinds a call touches, from its keys (`T#<org>#TICKET#...` → `TICKET`), for reading the path. */
function describeKeys(input: Record<string, unknown>): string {
  const kinds = new Set<string>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 8 || !value || typeof value !== "object") return;
    const record = value as Record<string, unknown>;
    for (const [name, v] of Object.entries(record)) {
      const key = typeof v === "string" ? v : v && typeof v === "object" && "S" in v ? String((v as { S: unknown }).S) : undefined;
      if ((name === "pk" || name === ":pk") && key !== undefined) {
        const parts = key.split("#");
        const sk = (record.sk ?? record[":sk"] ?? record[":prefix"]) as unknown;
        const skText = typeof sk === "string" ? sk : sk && typeof sk === "object" && "S" in sk ? String((sk as { S: unknown }).S) : "";
        kinds.add(parts[0] === "T" ? (parts[2] ?? (skText.split("#")[0] || "ORG")) : parts[0]!);
      } else visit(v, depth + 1);
    }
  };
  visit(input, 0);
  return [...kinds].join(",");
}

interface Sample {
  calls: number;
  stages: string[][];
  rcu: number;
  wcu: number;
  consumerRcu: number;
  consumerWcu: number;
  consumerCalls: string[];
}

const sum = (list: Call[], field: "rcu" | "wcu") => list.reduce((total, c) => total + c[field], 0);

/** Calls grouped by overlap: a call that starts after every earlier one ended opens a new stage. */
function stagesOf(list: Call[]): string[][] {
  const sorted = [...list].sort((a, b) => a.start - b.start);
  const stages: string[][] = [];
  let ended = -Infinity;
  for (const call of sorted) {
    if (call.start >= ended || !stages.length) stages.push([]);
    stages.at(-1)!.push(call.command);
    ended = Math.max(ended, call.end);
  }
  return stages;
}

const rows: Record<string, string | number>[] = [];
const results: Record<string, unknown> = {};
const STATES = ["warm, credentials cached", "warm, cache expired"] as const;
for (const [kind, run] of Object.entries(kinds)) {
  const byState = new Map<(typeof STATES)[number], Sample[]>();
  for (const state of STATES) {
    const samples: Sample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      // Nothing of earlier requests left for the consumers to do.
      await platform.poller.drained();
      if (state === "warm, cache expired") await new Promise((r) => setTimeout(r, CREDENTIAL_CHECK_TTL_MS + 100));
      else await run(); // back to back: the previous request refreshed the cache (the limiter's 100 ms lease has mostly expired: a caller waits for its answer)
      calls = [];
      await run();
      await platform.poller.drained();
      const path = calls.filter((c) => !c.consumer);
      const off = calls.filter((c) => c.consumer);
      samples.push({
        calls: path.length,
        stages: stagesOf(path),
        rcu: sum(path, "rcu"),
        wcu: sum(path, "wcu"),
        consumerRcu: sum(off, "rcu"),
        consumerWcu: sum(off, "wcu"),
        consumerCalls: off.map((c) => c.command),
      });
    }
    byState.set(state, samples);
  }
  // The consumers' share of one request, from the cache-expired samples: there no request went just
  // before the measured one, so the records delivered are the measured request's alone. It does not
  // depend on the credential cache. The median (a checkpoint or a cache miss makes some dearer).
  const alone = byState.get("warm, cache expired")!;
  const consumerRcu = median(alone.map((s) => s.consumerRcu));
  const consumerWcu = median(alone.map((s) => s.consumerWcu));
  const consumerUsd = consumerWcu * WRU_USD + consumerRcu * RRU_USD;
  const consumerCalls = [...alone].sort((a, b) => a.consumerWcu - b.consumerWcu)[Math.floor(alone.length / 2)]!.consumerCalls;
  for (const state of STATES) {
    const samples = byState.get(state)!;
    // The typical request: the median by calls (rate-limit leases and caches make some cheaper).
    const typical = [...samples].sort((a, b) => a.calls - b.calls)[Math.floor(samples.length / 2)]!;
    const usd = typical.wcu * WRU_USD + typical.rcu * RRU_USD;
    rows.push({
      request: kind,
      state,
      calls: typical.calls,
      stages: typical.stages.length,
      "max stages": Math.max(...samples.map((s) => s.stages.length)),
      RRU: typical.rcu,
      WRU: typical.wcu,
      "$/M path": usd * 1e6,
      "consumers RRU": consumerRcu,
      "consumers WRU": consumerWcu,
      "$/M total": (usd + consumerUsd) * 1e6,
      path: typical.stages.map((s) => s.join("+")).join(" → "),
      consumers: consumerCalls.join(" + "),
    });
    results[`${kind} / ${state}`] = {
      typical: { ...typical, consumerCalls },
      samples: samples.map((s) => ({ calls: s.calls, stages: s.stages.length, rcu: s.rcu, wcu: s.wcu, consumerRcu: s.consumerRcu, consumerWcu: s.consumerWcu })),
      medianStages: median(samples.map((s) => s.stages.length)),
      consumers: { rcu: consumerRcu, wcu: consumerWcu },
      usdPerMillion: { path: usd * 1e6, consumers: consumerUsd * 1e6, total: (usd + consumerUsd) * 1e6 },
    };
  }
}
printTable(rows);
writeResult("round-trips", { samples: SAMPLES, rows, results });
ws.close();
meter.close();
await platform.stop();
await fake.close();
