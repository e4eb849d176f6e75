/**
 * A chat turn's added latency to the first streamed token: an agent chat over the local WebSocket
 * gateway (token auth, agent + role + memory lookups, routing, budget reservation, model stream,
 * chat.delta frames through the @connections API) against a direct openai SDK stream to the same fake
 * model server, interleaved in one run. The model streams 5 chunks 20 ms apart.
 *
 * Run: npm run bench -- chat-turn   (writes bench/results/chat-turn.json)
 */
import OpenAI from "openai";
import WebSocket from "ws";
import { startPlatform } from "../local/platform";
import { startFakeOpenAI } from "../test/support/fake-openai";
import { median, percentile, printTable, writeResult } from "./lib";

const N = Number(process.env.BENCH_N ?? 60);
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
const fake = await startFakeOpenAI();
fake.respond(() => ({ chunks: ["The ", "answer ", "is ", "forty-", "two."], chunkDelayMs: 20 }));
const platform = await startPlatform({ port: 0, tableName: "agentorg-bench", env: { AGENTORG_SLM_BASE_URL: fake.baseURL, AGENTORG_LLM_BASE_URL: fake.baseURL, POWERTOOLS_LOG_LEVEL: "SILENT" } });
const headers = { authorization: `Bearer ${platform.operatorKey}`, "content-type": "application/json" };
const post = async (path: string, body: unknown, auth = headers) => (await fetch(`${platform.apiUrl}${path}`, { method: "POST", headers: auth, body: JSON.stringify(body) })).json() as Promise<any>;
const org = await post("/organizations", { name: "Turns", tier: "enterprise" });
const key = (await post(`/organizations/${org.id}/api-keys`, {})).secret as string;
const orgHeaders = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const agent = await post("/agents", { name: "Sol", roleId: "ceo" }, orgHeaders);

const ws = new WebSocket(platform.wsUrl, { headers: { authorization: `Bearer ${key}` } });
await new Promise((r) => ws.once("open", r));
let waiting: { first?: (t: number) => void; done?: () => void } = {};
ws.on("message", (data) => {
  const frame = JSON.parse(data.toString()) as { type: string };
  if (frame.type === "chat.delta") waiting.first?.(performance.now()), (waiting.first = undefined);
  if (frame.type === "chat.done") waiting.done?.();
});

async function viaAgent(): Promise<{ first: number; total: number }> {
  const start = performance.now();
  let first = 0;
  const done = new Promise<void>((resolve) => (waiting = { first: (t) => (first = t - start), done: resolve }));
  ws.send(JSON.stringify({ action: "chat", agentId: agent.id, message: "What is the answer?" }));
  await done;
  return { first, total: performance.now() - start };
}

const direct = new OpenAI({ baseURL: fake.baseURL, apiKey: "x", maxRetries: 0 });
async function viaSdk(): Promise<{ first: number; total: number }> {
  const start = performance.now();
  let first = 0;
  const stream = await direct.chat.completions.create({ model: "gpt-4o", messages: [{ role: "user", content: "What is the answer?" }], stream: true });
  for await (const chunk of stream) if (!first && chunk.choices[0]?.delta.content) first = performance.now() - start;
  return { first, total: performance.now() - start };
}

for (let i = 0; i < 5; i++) await viaAgent(), await viaSdk();
const a: { first: number; total: number }[] = [];
const b: { first: number; total: number }[] = [];
for (let i = 0; i < N; i++) {
  b.push(await viaSdk());
  a.push(await viaAgent());
}
const row = (name: string, xs: { first: number; total: number }[]) => ({
  path: name,
  "first token p50 ms": median(xs.map((x) => x.first)),
  "first token p99 ms": percentile(xs.map((x) => x.first), 0.99),
  "total p50 ms": median(xs.map((x) => x.total)),
});
printTable([row("direct SDK stream", b), row("agent chat over WebSocket", a)]);
const added = median(a.map((x) => x.first)) - median(b.map((x) => x.first));
console.log(`added latency to first token (p50): ${added.toFixed(1)} ms`);
writeResult("chat-turn", { n: N, direct: row("direct", b), agent: row("agent", a), addedFirstTokenP50Ms: added });
ws.close();
await platform.stop();
await fake.close();
process.exit(0);
