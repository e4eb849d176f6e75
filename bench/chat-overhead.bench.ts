/**
 * Platform overhead of a chat completion: the same request, side by side in one run,
 *   (a) directly from the openai SDK to a local fake model server, and
 *   (b) from the openai SDK through the local platform (HTTP gateway -> handler -> auth, routing,
 *       budget reservation and settlement in DynamoDB Local -> the same fake model server).
 * Interleaved (a, b, a, b, ...) so both see the same machine load. Reports p50/p99 and the ratio,
 * for JSON answers and for streams (time to first token and to the end).
 *
 * Run: npm run bench -- chat-overhead   (writes bench/results/chat-overhead.json)
 */
import OpenAI from "openai";
import { startPlatform } from "../local/platform";
import { startFakeOpenAI } from "../test/support/fake-openai";
import { median, percentile, printTable, writeResult } from "./lib";

const N = Number(process.env.BENCH_N ?? 200);
const WARMUP = 20;

const fake = await startFakeOpenAI();
const platform = await startPlatform({
  port: 0,
  tableName: "agentorg-bench",
  env: { AGENTORG_SLM_BASE_URL: fake.baseURL, AGENTORG_LLM_BASE_URL: fake.baseURL, POWERTOOLS_LOG_LEVEL: "SILENT" },
});
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";

const headers = { authorization: `Bearer ${platform.operatorKey}`, "content-type": "application/json" };
const org = (await (await fetch(`${platform.apiUrl}/organizations`, { method: "POST", headers, body: JSON.stringify({ name: "Bench", tier: "enterprise" }) })).json()) as { id: string };
const key = (await (await fetch(`${platform.apiUrl}/organizations/${org.id}/api-keys`, { method: "POST", headers, body: "{}" })).json()) as { secret: string };

const direct = new OpenAI({ baseURL: fake.baseURL, apiKey: "x", maxRetries: 0 });
const viaPlatform = new OpenAI({ baseURL: platform.apiUrl, apiKey: key.secret, maxRetries: 0 });
const messages = [{ role: "user" as const, content: "What is the capital of France?" }];

async function once(client: OpenAI, model: string, stream: boolean): Promise<{ total: number; first: number }> {
  const start = performance.now();
  if (!stream) {
    await client.chat.completions.create({ model, messages });
    const total = performance.now() - start;
    return { total, first: total };
  }
  let first = 0;
  const s = await client.chat.completions.create({ model, messages, stream: true });
  for await (const chunk of s) if (!first && chunk.choices[0]?.delta.content) first = performance.now() - start;
  return { total: performance.now() - start, first };
}

const rows: Record<string, string | number>[] = [];
const result: Record<string, unknown> = { n: N };
for (const stream of [false, true]) {
  const a: { total: number; first: number }[] = [];
  const b: { total: number; first: number }[] = [];
  for (let i = 0; i < WARMUP; i++) {
    await once(direct, "llama3.2:3b", stream);
    await once(viaPlatform, "auto", stream);
  }
  for (let i = 0; i < N; i++) {
    a.push(await once(direct, "llama3.2:3b", stream));
    b.push(await once(viaPlatform, "auto", stream));
  }
  const label = stream ? "stream" : "json";
  const metrics: [string, (x: { total: number; first: number }) => number][] = [["total", (x) => x.total]];
  if (stream) metrics.push(["first token", (x) => x.first]);
  for (const [metric, pick] of metrics) {
    const da = a.map(pick);
    const db = b.map(pick);
    const row = {
      mode: label,
      metric,
      "direct p50 ms": median(da),
      "direct p99 ms": percentile(da, 0.99),
      "platform p50 ms": median(db),
      "platform p99 ms": percentile(db, 0.99),
      "added p50 ms": median(db) - median(da),
      "ratio p50": median(db) / median(da),
    };
    rows.push(row);
    result[`${label} ${metric}`] = row;
  }
}
printTable(rows);
writeResult("chat-overhead", result);
await platform.stop();
await fake.close();
