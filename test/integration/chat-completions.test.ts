import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { costMicroUsd, inputTokenUpperBound } from "../../core/models/cost";
import { DEFAULT_MODELS } from "../../core/models/catalog";
import { classifier } from "../../core/routing/classifier";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, setRateLimits, startTestPlatform } from "../support/platform";

let platform: Platform;
let slm: FakeOpenAI;
let llm: FakeOpenAI;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  [slm, llm] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  platform = await startTestPlatform({
    env: {
      AGENTORG_SLM_BASE_URL: slm.baseURL,
      AGENTORG_LLM_BASE_URL: llm.baseURL,
      AGENTORG_LLM_API_KEY: "llm-secret",
      AGENTORG_MODEL_TIMEOUT_MS: "2000",
      AGENTORG_MODEL_MAX_RETRIES: "0",
    },
  });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  await platform?.stop();
  await Promise.all([slm?.close(), llm?.close()]);
});
beforeEach(() => {
  slm.reset();
  llm.reset();
});

const sdk = (key: string) => new OpenAI({ baseURL: platform.apiUrl, apiKey: key, maxRetries: 0 });
const ask = (content: string) => [{ role: "user" as const, content }];

/** Candidate prompts, scored by the real classifier (no hard-coded scores). */
const CANDIDATES = [
  "hi",
  "What is the capital of France?",
  "Summarize this paragraph in one sentence: the meeting moved to Tuesday.",
  "A train travels 60 km in 45 minutes. At the same speed, how long does it take to travel 200 km? Show the steps.",
  "Explain the difference between a Roth IRA and a traditional IRA for someone in a high tax bracket, with tradeoffs.",
  "Prove that the square root of 2 is irrational, then generalize the argument to the square root of any prime.",
  "Which of the following best describes the Heckscher-Ohlin theorem?\nA. comparative advantage from factor endowments\nB. absolute advantage\nC. increasing returns\nD. product life cycle\nAnswer:",
  "Janet has 3 times as many marbles as Tom. Together they have 48 marbles, and Janet gives Tom 6. How many does each have now?",
];

describe("chat completions through the openai SDK", () => {
  it("answers model=auto with the routing decision in headers and body", async () => {
    const { key } = await createTenant(platform);

    const { data, response } = await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") }).withResponse();

    expect(data.choices[0]!.message.content).toBe("fake reply to: hi");
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get("x-agentorg-tier")).toBe("slm");
    expect(response.headers.get("x-agentorg-model")).toBe("llama-3.2-3b");
    expect(Number(response.headers.get("x-agentorg-score"))).toBeCloseTo(classifier.score(ask("hi")), 3);
    expect((data as unknown as { agentorg: { offline: boolean } }).agentorg.offline).toBe(false);
    expect(slm.requests).toHaveLength(1);
    expect(llm.requests).toHaveLength(0);
  });

  it("streams with the SDK's helper and reports usage in the last chunk", async () => {
    const { key } = await createTenant(platform);
    slm.script({ chunks: ["Hel", "lo ", "there"], usage: { prompt_tokens: 11, completion_tokens: 3 } });

    const stream = sdk(key).chat.completions.stream({ model: "auto", messages: ask("hi"), stream_options: { include_usage: true } });
    const pieces: string[] = [];
    stream.on("content", (delta) => pieces.push(delta));
    const final = await stream.finalChatCompletion();

    expect(pieces.join("")).toBe("Hello there");
    expect(pieces.length).toBeGreaterThanOrEqual(2);
    expect(final.choices[0]!.message.content).toBe("Hello there");
    expect(final.usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 });
  });

  it("streams raw chunks with create({stream: true})", async () => {
    const { key } = await createTenant(platform);

    const stream = await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi"), stream: true });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(chunks[0]!.choices[0]!.delta.role).toBe("assistant");
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("fake reply to: hi");
    expect(chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
  });

  it("pins a catalog model and calls it by its upstream name with the tier's key", async () => {
    const { key } = await createTenant(platform);

    const { response } = await sdk(key).chat.completions.create({ model: "gpt-4o", messages: ask("hi") }).withResponse();

    expect(response.headers.get("x-agentorg-tier")).toBe("llm");
    expect(llm.requests[0]!.body).toMatchObject({ model: "gpt-4o" });
    expect(llm.requests[0]!.headers.authorization).toBe("Bearer llm-secret");
    expect(slm.requests).toHaveLength(0);
  });

  it("passes function-calling tools through and returns the tool calls", async () => {
    const { key } = await createTenant(platform);
    slm.script({ toolCalls: [{ name: "lookup", arguments: { q: "vpn" } }] });
    const tools = [{ type: "function" as const, function: { name: "lookup", parameters: { type: "object", properties: { q: { type: "string" } } } } }];

    const result = await sdk(key).chat.completions.create({ model: "llama-3.2-3b", messages: ask("find vpn docs"), tools });

    expect((slm.requests[0]!.body as { tools?: unknown }).tools).toEqual(tools);
    expect(result.choices[0]!.finish_reason).toBe("tool_calls");
    expect(JSON.parse((result.choices[0]!.message.tool_calls![0]! as { function: { arguments: string } }).function.arguments)).toEqual({ q: "vpn" });
  });
});

describe("routing policy", () => {
  it("leans by industry: the same query goes to the LLM for finance and the SLM for retail", async () => {
    const prompt = CANDIDATES.find((p) => {
      const s = classifier.score(ask(p));
      return s >= 0.4 && s < 0.65;
    });
    expect(prompt, "a candidate prompt scoring between the finance and retail thresholds").toBeDefined();
    const finance = await createTenant(platform, { industry: "finance" });
    const retail = await createTenant(platform, { industry: "retail" });

    const a = await sdk(finance.key).chat.completions.create({ model: "auto", messages: ask(prompt!) }).withResponse();
    const b = await sdk(retail.key).chat.completions.create({ model: "auto", messages: ask(prompt!) }).withResponse();

    expect(a.response.headers.get("x-agentorg-tier")).toBe("llm");
    expect(b.response.headers.get("x-agentorg-tier")).toBe("slm");
  });

  it("follows the organization's override: routing off with a fixed tier, or a fixed threshold", async () => {
    const { key } = await createTenant(platform);

    const fixed = await call(platform, "/routing/settings", { method: "PUT", key, body: { override: { mode: "fixed", tier: "llm" } } });
    const forced = await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") }).withResponse();
    await call(platform, "/routing/settings", { method: "PUT", key, body: { override: { mode: "threshold", threshold: 1 } } });
    const relaxed = await sdk(key).chat.completions.create({ model: "auto", messages: ask(CANDIDATES[5]!) }).withResponse();
    const read = await call(platform, "/routing/settings", { key });

    expect(fixed.status).toBe(200);
    expect(forced.response.headers.get("x-agentorg-tier")).toBe("llm");
    expect((forced.data as any).agentorg.reason.code).toBe("override_fixed");
    expect(relaxed.response.headers.get("x-agentorg-tier")).toBe("slm");
    expect(read.body).toEqual({ override: { mode: "threshold", threshold: 1 }, calibration: null });
  });

  it("calibrates to a target LLM share", async () => {
    const { key } = await createTenant(platform);

    await call(platform, "/routing/settings", { method: "PUT", key, body: { calibration: { targetLlmShare: 0.2 } } });
    const result = await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") });

    const reason = (result as any).agentorg;
    expect(reason.reason.code).toBe("calibrated_llm_share");
    expect(reason.threshold).toBeGreaterThan(0.5);
  });

  it("rejects invalid settings naming the field", async () => {
    const { key } = await createTenant(platform);

    const result = await call(platform, "/routing/settings", { method: "PUT", key, body: { override: { mode: "threshold", threshold: 2 } } });

    expect(result.status).toBe(400);
    expect(result.body.errors[0].field).toBe("override.threshold");
  });
});

describe("fallback and provider failures", () => {
  it("falls back from a failing SLM to the LLM and records both attempts", async () => {
    const { key } = await createTenant(platform);
    slm.script({ error: { status: 500 } });

    const { data, response } = await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") }).withResponse();
    const decisions = await call(platform, "/routing/decisions?limit=1", { key });

    expect(data.choices[0]!.message.content).toBe("fake reply to: hi");
    expect(response.headers.get("x-agentorg-model")).toBe("gpt-4o");
    expect(decisions.body.items[0]).toMatchObject({
      model: "gpt-4o",
      tier: "llm",
      reason: { code: "fallback" },
      attempts: [
        { model: "llama-3.2-3b", ok: false },
        { model: "gpt-4o", ok: true },
      ],
    });
  });

  it("falls back from a failing LLM to the SLM", async () => {
    const { key } = await createTenant(platform);
    llm.script({ error: { status: 503 } });

    const { response } = await sdk(key).chat.completions.create({ model: "gpt-4o", messages: ask("hi") }).withResponse();

    expect(response.headers.get("x-agentorg-model")).toBe("llama-3.2-3b");
  });

  it("answers 502 problem+json when both tiers fail, and releases the reservation", async () => {
    const { org, key } = await createTenant(platform);
    slm.script({ error: { status: 500 } });
    llm.script({ error: { status: 500 } });

    const result = await call(platform, "/chat/completions", { method: "POST", key, body: { model: "auto", messages: ask("hi") } });
    const usage = await call(platform, `/organizations/${org.id}/usage`, { key });
    const item = await db.send(new QueryCommand({ TableName: platform.tableName, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `T#${org.id}`, ":s": "USAGE#" } }));

    expect(result.status).toBe(502);
    expect(result.headers.get("content-type")).toBe("application/problem+json");
    expect(result.body.code).toBe("model_failed");
    expect(result.body.attempts).toHaveLength(2);
    expect(usage.body.queries.total).toBe(0);
    expect(item.Items![0]!.committedMicroUsd).toBe(0);
  });

  it("answers 504 when the models do not answer in time, without hanging", async () => {
    const { key } = await createTenant(platform);
    slm.script({ hang: true });
    llm.script({ hang: true });

    const result = await call(platform, "/chat/completions", { method: "POST", key, body: { model: "auto", messages: ask("hi") } });

    expect(result.status).toBe(504);
    expect(result.body.code).toBe("model_timeout");
  });

  it("answers a stream request whose models both fail before any token with a plain 502 the SDK raises", async () => {
    const { key } = await createTenant(platform);
    slm.script({ error: { status: 500 } });
    llm.script({ error: { status: 500 } });

    const stream = await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi"), stream: true }).catch((e) => e);

    expect(stream).toBeInstanceOf(OpenAI.APIError);
    expect((stream as InstanceType<typeof OpenAI.APIError>).status).toBe(502);
  });
});

describe("bad requests", () => {
  it.each([
    ["empty messages", { model: "auto", messages: [] }, "messages", "validation_failed"],
    ["wrong type", { model: "auto", messages: ask("hi"), temperature: "hot" }, "temperature", "validation_failed"],
    ["bad role", { model: "auto", messages: [{ role: "wizard", content: "hi" }] }, "messages.0.role", "validation_failed"],
    ["n > 1", { model: "auto", messages: ask("hi"), n: 3 }, "n", "validation_failed"],
  ])("%s is 400 naming the field", async (_name, body, field, code) => {
    const { key } = await createTenant(platform);

    const result = await call(platform, "/chat/completions", { method: "POST", key, body });

    expect(result.status).toBe(400);
    expect(result.body.code).toBe(code);
    expect(result.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    expect(slm.requests).toHaveLength(0);
  });

  it("refuses the operator key: queries belong to an organization", async () => {
    const result = await call(platform, "/chat/completions", { method: "POST", key: platform.operatorKey, body: { model: "auto", messages: ask("hi") } });

    expect(result.status).toBe(403);
  });
});

describe("metering and budgets", () => {
  it("records the decision and usage in the table, with cost and savings", async () => {
    const { org, key } = await createTenant(platform);
    slm.script({ usage: { prompt_tokens: 1000, completion_tokens: 500 } });

    await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") });
    const usage = await call(platform, `/organizations/${org.id}/usage`, { key });
    const records = await db.send(new QueryCommand({ TableName: platform.tableName, KeyConditionExpression: "pk = :p AND begins_with(sk, :s)", ExpressionAttributeValues: { ":p": `T#${org.id}`, ":s": "REC#" } }));

    const slmModel = DEFAULT_MODELS.find((m) => m.id === "llama-3.2-3b")!;
    const llmModel = DEFAULT_MODELS.find((m) => m.id === "gpt-4o")!;
    const cost = costMicroUsd(slmModel, 1000, 500);
    const baseline = costMicroUsd(llmModel, 1000, 500);
    expect(records.Items).toHaveLength(1);
    expect(records.Items![0]).toMatchObject({ entity: "costRecord", model: "llama-3.2-3b", tier: "slm", inputTokens: 1000, outputTokens: 500, costMicroUsd: cost, baselineMicroUsd: baseline, offline: false });
    expect(records.Items![0]!.ttl).toBeGreaterThan(Date.now() / 1000);
    expect(usage.body).toMatchObject({
      queries: { total: 1, slm: 1, llm: 0 },
      tokens: { input: 1000, output: 500 },
      models: { "llama-3.2-3b": 1 },
      costUsd: cost / 1e6,
      savingsUsd: (baseline - cost) / 1e6,
      estimated: false,
    });
    expect(usage.body.bill.totalUsd).toBeCloseTo(49 + cost / 1e6, 6);
  });

  it("never overruns the budget under concurrency: 50 parallel queries, a budget that admits 20", async () => {
    const { org, key } = await createTenant(platform);
    const messages = ask("How many moons does Mars have?");
    const maxTokens = 2000;
    const gpt4o = DEFAULT_MODELS.find((m) => m.id === "gpt-4o")!;
    // Each call costs exactly what it reserves: the provider reports the reservation's own bounds.
    const perCall = costMicroUsd(gpt4o, inputTokenUpperBound(messages), maxTokens);
    llm.respond((request) => ({ usage: { prompt_tokens: inputTokenUpperBound(request.messages as never), completion_tokens: maxTokens }, delayMs: 20 }));
    await call(platform, `/organizations/${org.id}`, { method: "PATCH", key, body: { spendLimitUsd: (perCall * 20 + perCall / 2) / 1e6 } });
    // 50 calls of 2,000 tokens are more than the basic tier's tokens a minute: lift the rate limits, so
    // the budget is what refuses.
    await setRateLimits(platform, org.id);

    const results = await Promise.all(
      Array.from({ length: 50 }, () => call(platform, "/chat/completions", { method: "POST", key, body: { model: "gpt-4o", messages, max_tokens: maxTokens } })),
    );
    const usage = await call(platform, `/organizations/${org.id}/usage`, { key });

    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(20);
    expect(refused).toHaveLength(30);
    expect(refused[0]!.headers.get("content-type")).toBe("application/problem+json");
    expect(refused[0]!.body).toMatchObject({ code: "budget_exceeded", limit: "spendLimitUsd" });
    expect(Date.parse(refused[0]!.body.resetsAt)).toBeGreaterThan(Date.now());
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(usage.body.queries.total).toBe(20);
    expect(usage.body.modelSpendUsd.used).toBeLessThanOrEqual(usage.body.modelSpendUsd.limit);
  });

  it("lists an organization's decisions newest first with a cursor, and only its own", async () => {
    const a = await createTenant(platform);
    const b = await createTenant(platform);
    for (let i = 0; i < 3; i++) await sdk(a.key).chat.completions.create({ model: "auto", messages: ask(`q${i}`) });
    await sdk(b.key).chat.completions.create({ model: "auto", messages: ask("other") });

    const first = await call(platform, "/routing/decisions?limit=2", { key: a.key });
    const second = await call(platform, `/routing/decisions?limit=2&cursor=${first.body.cursor}`, { key: a.key });
    const forged = await call(platform, `/routing/decisions?cursor=${first.body.cursor}`, { key: b.key });

    const ids = [...first.body.items, ...second.body.items].map((r: { id: string }) => r.id);
    expect(ids).toHaveLength(3);
    expect([...ids].sort().reverse()).toEqual(ids);
    expect(forged.status).toBe(400);
  });

  it("aggregates every tenant for the operator only", async () => {
    const { key } = await createTenant(platform);
    await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") });

    const stats = await call(platform, "/routing/global-stats", { key: platform.operatorKey });
    const refused = await call(platform, "/routing/global-stats", { key });

    expect(stats.status).toBe(200);
    expect(stats.body.queries).toBeGreaterThanOrEqual(1);
    expect(stats.body.organizations).toBeGreaterThanOrEqual(1);
    expect(stats.body.slmShare).toBeGreaterThan(0);
    expect(refused.status).toBe(403);
  });
});

describe("API Gateway (buffered) invocation of the streaming handler", () => {
  it("returns a payload-2.0 result with the whole SSE body when no sink is given", async () => {
    const { key } = await createTenant(platform);
    slm.script({ chunks: ["a", "b"] });
    const { handler } = await import("../../functions/http/chat-completions");
    const event = {
      version: "2.0",
      routeKey: "POST /api/v1/chat/completions",
      rawPath: "/api/v1/chat/completions",
      rawQueryString: "",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      requestContext: { requestId: "buffered-1", http: { method: "POST", path: "/api/v1/chat/completions" } },
      body: JSON.stringify({ model: "auto", stream: true, messages: ask("hi") }),
      isBase64Encoded: false,
    } as never;

    const result = (await handler(event)) as { statusCode: number; headers: Record<string, string>; body: string };

    expect(result.statusCode).toBe(200);
    expect(result.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(result.body).toContain('"content":"a"');
    expect(result.body.trim().endsWith("data: [DONE]")).toBe(true);
  });
});
