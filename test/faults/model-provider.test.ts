import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { keys } from "../../core/db/keys";
import { periodOf } from "../../core/shared/clock";
import { startFakeOpenAI, type FakeOpenAI, type ScriptedReply } from "../support/fake-openai";
import { call, createTenant, eventually, startTestPlatform } from "../support/platform";
import { chat as chatService } from "../../functions/lib/services/chat";

/**
 * Fault: model providers that rate-limit (429 with Retry-After), fail (500, 503, a body that is not
 * JSON), hang past the timeout, or stream slowly to a client that goes away, all at once.
 *
 * Invariants, checked after a burst of mixed faults:
 * - every request gets an answer (200 from a model or the fallback, 502/504 problem+json), never a
 *   500 and never a hang past the configured timeout;
 * - no budget is leaked: the organization's committed spend (settled cost + open reservations) equals
 *   its settled cost once every request is over, including streams whose client disconnected;
 * - usage counts exactly the queries that were answered.
 */
const TIMEOUT_MS = 1_500;
let platform: Platform;
let slm: FakeOpenAI;
let llm: FakeOpenAI;
let db: DynamoDBDocumentClient;

/** A small deterministic PRNG (mulberry32), so a failing mix can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAULTS: ScriptedReply[] = [
  {},
  { chunks: ["slow ", "but ", "sure"], chunkDelayMs: 150 },
  { error: { status: 429, headers: { "retry-after": "0.05" } } },
  { error: { status: 500 } },
  { error: { status: 503 } },
  { error: { status: 502, body: "<html>bad gateway</html>" } },
  { hang: true },
];

beforeAll(async () => {
  [slm, llm] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  const random = rng(20261130);
  for (const fake of [slm, llm]) fake.respond(() => FAULTS[Math.floor(random() * FAULTS.length)]!);
  platform = await startTestPlatform({
    env: {
      AGENTORG_SLM_BASE_URL: slm.baseURL,
      AGENTORG_LLM_BASE_URL: llm.baseURL,
      AGENTORG_MODEL_TIMEOUT_MS: String(TIMEOUT_MS),
      AGENTORG_MODEL_MAX_RETRIES: "1",
    },
  });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  db?.destroy();
  await platform?.stop();
  await Promise.all([slm?.close(), llm?.close()]);
});

async function usage(orgId: string) {
  const { Item } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.usage(orgId, periodOf(new Date())), ConsistentRead: true }));
  return { committed: Number(Item?.committedMicroUsd ?? 0), cost: Number(Item?.costMicroUsd ?? 0), queries: Number(Item?.queries ?? 0) };
}

/** One streamed request, read to the end or abandoned after its first bytes. */
async function streamed(key: string, abandon: boolean): Promise<number> {
  const controller = new AbortController();
  const response = await fetch(`${platform.apiUrl}/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "auto", stream: true, max_tokens: 50, messages: [{ role: "user", content: "tell me something" }] }),
    signal: controller.signal,
  });
  if (response.status !== 200 || !response.body) {
    await response.text();
    return response.status;
  }
  const reader = response.body.getReader();
  await reader.read();
  if (abandon) controller.abort();
  else while (!(await reader.read()).done);
  return response.status;
}

describe("model providers failing in every way at once", () => {
  it("answers every request, never 500, and leaks no budget reservation", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const started = Date.now();

    const results = await Promise.all([
      ...Array.from({ length: 24 }, (_, i) =>
        call(platform, "/chat/completions", {
          method: "POST",
          key: t.key,
          body: { model: i % 2 ? "auto" : "gpt-4o", max_tokens: 50, messages: [{ role: "user", content: `question ${i}` }] },
        }).then((r) => r.status),
      ),
      ...Array.from({ length: 12 }, (_, i) => streamed(t.key, i % 3 === 0).catch(() => 200)),
    ]);
    const elapsed = Date.now() - started;

    for (const status of results) expect([200, 502, 504]).toContain(status);
    // Two attempts (model and fallback), each with one SDK retry, each bounded by the timeout: a loose upper bound.
    expect(elapsed).toBeLessThan(2 * 2 * TIMEOUT_MS + 20_000);
    const settled = await eventually(async () => {
      const u = await usage(t.org.id);
      return u.committed === u.cost ? u : undefined;
    }, 30_000, "every reservation settled or released");
    expect(settled.committed).toBe(settled.cost);
    // Every answered query is metered once, with its routing decision; an abandoned stream is metered
    // only if its model finished (the server reads a model to the end whether or not the client stays).
    const complete = results.filter((s, i) => s === 200 && !(i >= 24 && (i - 24) % 3 === 0)).length;
    const decisions = await call(platform, "/routing/decisions?limit=100", { key: t.key });
    expect(settled.queries).toBe(decisions.body.items.length);
    expect(settled.queries).toBeGreaterThanOrEqual(complete);
    expect(settled.queries).toBeLessThanOrEqual(results.filter((s) => s === 200).length);
  });

  it("releases the reservation of a stream whose reader stops early (a client gone, a write that threw)", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    slm.respond(() => ({ chunks: ["one ", "two ", "three"], chunkDelayMs: 50 }));
    llm.respond(() => ({ chunks: ["one ", "two ", "three"], chunkDelayMs: 50 }));
    const chat = chatService();
    const plan = await chat.plan({ kind: "org", orgId: t.org.id, keyId: t.keyId }, { model: "auto", stream: true, max_tokens: 50, messages: [{ role: "user", content: "count" }] });
    const reserved = await usage(t.org.id);

    const events = chat.stream(plan);
    await events.next();
    await events.return(undefined);
    const after = await usage(t.org.id);

    expect(reserved.committed).toBeGreaterThan(0);
    expect(after.committed).toBe(after.cost);
  });
});
