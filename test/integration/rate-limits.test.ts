import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../core/db/client";
import { keys } from "../../core/db/keys";
import { createRateLimitStore } from "../../core/db/rate-limit.repository";
import { perSecondPolicy } from "../../core/ratelimit/gcra";
import { createRateLimiter, RateLimitExceeded } from "../../core/ratelimit/limiter";
import type { RateLimitStore } from "../../core/ratelimit/ports";
import { TIER_PLANS } from "../../core/tenants/tiers";
import type { Platform } from "../../local/platform";
import { call, type CallResult, createTenant, eventually, LIFTED_RATE_LIMITS, setRateLimits, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

let platform: Platform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const sdk = (key: string) => new OpenAI({ baseURL: platform.apiUrl, apiKey: key, maxRetries: 0 });
const ask = (content: string) => [{ role: "user" as const, content }];
const statuses = (results: CallResult[]) => results.map((r) => r.status);
const count = (results: CallResult[], status: number) => results.filter((r) => r.status === status).length;

/** One organization key more. */
async function secondKey(orgId: string): Promise<string> {
  const key = await call(platform, `/organizations/${orgId}/api-keys`, { method: "POST", key: platform.operatorKey, body: { name: "second" } });
  return key.body.secret as string;
}

/** Almost no refill (one request per 1,000 s): what passes within a test is the burst, exactly. */
const only = (burst: number) => ({ requestsPerSecond: 0.001, burst });
const roomy = { requestsPerSecond: 500, burst: 10_000 };

describe("per-tenant and per-key rate limits (HTTP)", () => {
  it("answers a flooding basic-tier tenant 429 with Retry-After and the RateLimit headers, while another tenant keeps getting 200s", async () => {
    const noisy = await createTenant(platform, { tier: "basic" });
    const quiet = await createTenant(platform, { tier: "basic" });
    const basic = TIER_PLANS.basic.rateLimits;
    // The function's code is loaded by its first request (a cold start): not during the flood.
    expect((await call(platform, `/organizations/${quiet.org.id}`, { key: quiet.key })).status).toBe(200);

    const flood = Promise.all(Array.from({ length: 300 }, () => call(platform, `/organizations/${noisy.org.id}`, { key: noisy.key })));
    const neighbour: CallResult[] = [];
    for (let i = 0; i < 20; i++) neighbour.push(await call(platform, `/organizations/${quiet.org.id}`, { key: quiet.key }));
    const results = await flood;

    const refused = results.find((r) => r.status === 429)!;
    expect(count(results, 200)).toBeGreaterThanOrEqual(basic.apiKey.burst);
    expect(count(results, 429)).toBeGreaterThan(0);
    expect(count(results, 200) + count(results, 429)).toBe(300);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({ status: 429, code: "rate_limited", policy: "api-key", "violated-policies": ["api-key"] });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(refused.headers.get("ratelimit")).toMatch(/"api-key";r=0;t=\d+/);
    expect(refused.headers.get("ratelimit-policy")).toContain(`"api-key";q=${basic.apiKey.burst};w=10`);
    expect(statuses(neighbour)).toEqual(Array(20).fill(200));
    expect(neighbour.at(-1)!.headers.get("ratelimit-policy")).toBe(`"api-key";q=${basic.apiKey.burst};w=10, "organization";q=${basic.organization.burst};w=10`);
    expect(neighbour.at(-1)!.headers.get("ratelimit")).toMatch(/^"api-key";r=\d+;t=\d+, "organization";r=\d+;t=\d+$/);
  }, 90_000);

  it("lets exactly the allowed number of concurrent requests through, whichever of the organization's keys sends them", async () => {
    const tenant = await createTenant(platform);
    const other = await secondKey(tenant.org.id);
    await setRateLimits(platform, tenant.org.id, { organization: only(10), apiKey: roomy });

    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(platform, `/organizations/${tenant.org.id}/usage`, { key: i % 2 ? other : tenant.key })),
    );

    expect(count(results, 200)).toBe(10);
    expect(count(results, 429)).toBe(30);
    expect(results.filter((r) => r.status === 429).every((r) => r.body.policy === "organization")).toBe(true);
  });

  it("limits each key on its own: a key over its limit leaves its organization's other keys served", async () => {
    const tenant = await createTenant(platform);
    const other = await secondKey(tenant.org.id);
    await setRateLimits(platform, tenant.org.id, { apiKey: only(5) });

    const noisy = await Promise.all(Array.from({ length: 15 }, () => call(platform, "/hierarchy", { key: tenant.key })));
    const calm = await Promise.all(Array.from({ length: 5 }, () => call(platform, "/hierarchy", { key: other })));
    const calmAgain = await call(platform, "/hierarchy", { key: other });

    expect(count(noisy, 200)).toBe(5);
    expect(noisy.filter((r) => r.status === 429).every((r) => r.body.policy === "api-key")).toBe(true);
    expect(statuses(calm)).toEqual(Array(5).fill(200));
    // The other key's own bucket is now empty, not the organization's.
    expect(calmAgain.status).toBe(429);
    expect(calmAgain.body.policy).toBe("api-key");
    expect(calmAgain.headers.get("ratelimit")).toMatch(/^"api-key";r=0;t=\d+$/);
  });

  it("applies an operator's override at the next request, and goes back to the tier's limits when it is removed", async () => {
    const tenant = await createTenant(platform, { tier: "professional" });
    const path = `/organizations/${tenant.org.id}/usage`;

    const set = await setRateLimits(platform, tenant.org.id, { organization: only(3) });
    const first = await Promise.all(Array.from({ length: 4 }, () => call(platform, path, { key: tenant.key })));
    const raised = await setRateLimits(platform, tenant.org.id, { organization: only(6) });
    const second = await Promise.all(Array.from({ length: 4 }, () => call(platform, path, { key: tenant.key })));
    const removed = await setRateLimits(platform, tenant.org.id, {});
    // 6,000 s of debt is more than the tier's whole bucket (5 s): cut to an empty bucket that refills at
    // the tier's 100 a second, so requests pass again within a fraction of a second.
    const after = await eventually(async () => {
      const result = await call(platform, path, { key: tenant.key });
      return result.status === 200 ? result : undefined;
    }, 5_000, "a request under the tier's limits");

    expect(set.effective.organization).toEqual(only(3));
    expect(count(first, 200)).toBe(3);
    expect(raised.override).toEqual({ organization: only(6) });
    // The bucket's debt of 3 requests counts against the new size of 6: three more.
    expect(count(second, 200)).toBe(3);
    expect(removed.override).toBeNull();
    expect(removed.effective).toEqual(TIER_PLANS.professional.rateLimits);
    expect(after.status).toBe(200);
    expect(after.headers.get("ratelimit-policy")).toContain(`"organization";q=${TIER_PLANS.professional.rateLimits.organization.burst};`);
  });

  it("lets an organization read its own limits; another tenant's id is 404; only the operator changes them, within bounds", async () => {
    const a = await createTenant(platform, { tier: "enterprise" });
    const b = await createTenant(platform);
    await setRateLimits(platform, a.org.id, { chat: { tokensPerMinute: 12_345 } });
    const path = `/organizations/${a.org.id}/rate-limits`;

    const own = await call(platform, path, { key: a.key });
    const foreign = await call(platform, path, { key: b.key });
    const selfService = await call(platform, path, { method: "PUT", key: a.key, body: {} });
    const foreignPut = await call(platform, path, { method: "PUT", key: b.key, body: {} });
    const unauthenticated = await call(platform, path);
    const bad = await Promise.all(
      [{ organization: { requestsPerSecond: 0 } }, { apiKey: { burst: 1.5 } }, { chat: { tokensPerMinute: -1 } }, { organisation: {} }, { organization: { requestsPerSecond: 1e9 } }].map(
        (body) => call(platform, path, { method: "PUT", key: platform.operatorKey, body }),
      ),
    );
    const missing = await call(platform, `/organizations/${"0".repeat(26)}/rate-limits`, { method: "PUT", key: platform.operatorKey, body: {} });
    const org = await call(platform, `/organizations/${a.org.id}`, { key: a.key });

    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({
      orgId: a.org.id,
      tier: "enterprise",
      defaults: TIER_PLANS.enterprise.rateLimits,
      override: { chat: { tokensPerMinute: 12_345 } },
      effective: { ...TIER_PLANS.enterprise.rateLimits, chat: { ...TIER_PLANS.enterprise.rateLimits.chat, tokensPerMinute: 12_345 } },
    });
    expect(foreign.status).toBe(404);
    expect(selfService.status).toBe(403);
    expect(selfService.body.code).toBe("operator_only");
    expect(foreignPut.status).toBe(404);
    expect(unauthenticated.status).toBe(401);
    expect(statuses(bad)).toEqual([400, 400, 400, 400, 400]);
    expect(missing.status).toBe(404);
    expect(org.body.rateLimits).toEqual({ chat: { tokensPerMinute: 12_345 } });
  });

  it("does not limit the operator key, and public routes carry no RateLimit headers", async () => {
    const results = await Promise.all(Array.from({ length: 250 }, () => call(platform, "/organizations?limit=1", { key: platform.operatorKey })));
    const health = await call(platform, "/health");

    expect(statuses(results)).toEqual(Array(250).fill(200));
    expect(results[0]!.headers.get("ratelimit")).toBeNull();
    expect(health.headers.get("ratelimit")).toBeNull();
  });

  it("counts refused and malformed requests too, and reports the headers on them", async () => {
    const tenant = await createTenant(platform);
    await setRateLimits(platform, tenant.org.id, { apiKey: only(2) });

    const malformed = await call(platform, "/tickets", { method: "POST", key: tenant.key, raw: "{" });
    const missing = await call(platform, `/tickets/${"0".repeat(26)}`, { key: tenant.key });
    const third = await call(platform, "/tickets", { key: tenant.key });

    expect(malformed.status).toBe(400);
    expect(malformed.headers.get("ratelimit")).toMatch(/^"api-key";r=1;t=\d+, "organization";r=\d+;t=\d+$/);
    expect(missing.status).toBe(404);
    expect(missing.headers.get("ratelimit")).toMatch(/^"api-key";r=0;/);
    expect(third.status).toBe(429);
  });
});

describe("chat completions: requests and tokens per minute, as OpenAI counts them", () => {
  it("refuses the call after the minute's requests with a 429 the openai SDK reads, Retry-After included", async () => {
    const tenant = await createTenant(platform);
    await setRateLimits(platform, tenant.org.id, { chat: { requestsPerMinute: 2 } });
    const client = sdk(tenant.key);

    const first = await client.chat.completions.create({ model: "auto", messages: ask("one") }).withResponse();
    await client.chat.completions.create({ model: "auto", messages: ask("two") });
    const error = await client.chat.completions.create({ model: "auto", messages: ask("three") }).catch((e: unknown) => e);

    expect(first.response.headers.get("ratelimit-policy")).toContain('"chat-requests";q=2;w=60, "chat-tokens";q=');
    expect(first.response.headers.get("ratelimit")).toMatch(/"chat-requests";r=1;t=30, "chat-tokens";r=\d+;t=\d+/);
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    const refused = error as InstanceType<typeof OpenAI.RateLimitError>;
    expect(refused.status).toBe(429);
    // Two a minute: one every 30 s once the burst of two is spent, less the time the calls took.
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(20);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(refused.headers.get("ratelimit")).toContain(`"chat-requests";r=0;t=${retryAfter}`);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
  });

  it("counts the estimated input plus max_tokens against tokens per minute, and refuses a call that could never fit", async () => {
    const tenant = await createTenant(platform);
    await setRateLimits(platform, tenant.org.id, { chat: { tokensPerMinute: 1_000 } });
    const client = sdk(tenant.key);
    const call1 = await client.chat.completions.create({ model: "auto", messages: ask("hello"), max_tokens: 450 }).withResponse();

    const second = await client.chat.completions.create({ model: "auto", messages: ask("hello"), max_tokens: 450 }).catch((e: unknown) => e);
    const third = await client.chat.completions.create({ model: "auto", messages: ask("hello"), max_tokens: 450 }).catch((e: unknown) => e);
    const tooLarge = await client.chat.completions.create({ model: "auto", messages: ask("hello"), max_tokens: 2_000 }).catch((e: unknown) => e);

    // "hello": 3 + (2 + 4) = 9 estimated input tokens, plus 450. Then 1,000 - 2 x 459 = 82 left, plus
    // whatever refilled (a token every 60 ms) between the calls.
    expect(call1.response.headers.get("ratelimit")).toMatch(/"chat-tokens";r=541;/);
    expect(second).not.toBeInstanceOf(Error);
    expect(third).toBeInstanceOf(OpenAI.RateLimitError);
    const left = Number(/"chat-tokens";r=(\d+);t=\d+/.exec((third as InstanceType<typeof OpenAI.RateLimitError>).headers.get("ratelimit") ?? "")?.[1]);
    expect(left).toBeGreaterThanOrEqual(82);
    expect(left).toBeLessThan(459);
    expect(Number((third as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after"))).toBeGreaterThan(1);
    expect(tooLarge).toBeInstanceOf(OpenAI.BadRequestError);
  });

  it("limits the streaming handler path too: a streamed completion is refused before anything streams", async () => {
    const tenant = await createTenant(platform);
    await setRateLimits(platform, tenant.org.id, { chat: { requestsPerMinute: 1 } });

    const raw = await fetch(`${platform.apiUrl}/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${tenant.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "auto", stream: true, messages: ask("stream it") }),
    });
    const streamed = await raw.text();
    const refused = await sdk(tenant.key)
      .chat.completions.create({ model: "auto", stream: true, messages: ask("again") })
      .catch((e: unknown) => e);

    expect(raw.status).toBe(200);
    expect(raw.headers.get("content-type")).toContain("text/event-stream");
    expect(raw.headers.get("ratelimit")).toMatch(/^"api-key";r=\d+;t=\d+, "organization";r=\d+;t=\d+, "chat-requests";r=0;t=60, "chat-tokens";r=\d+;t=\d+$/);
    expect(streamed).toContain("data: [DONE]");
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(Number((refused as InstanceType<typeof OpenAI.RateLimitError>).headers.get("retry-after"))).toBeGreaterThan(50);
  });

  it("limits the other streaming route, the audit export, like any route", async () => {
    const tenant = await createTenant(platform);
    await setRateLimits(platform, tenant.org.id, { organization: only(2) });

    const exports = await Promise.all(Array.from({ length: 3 }, () => call(platform, "/audit/export", { key: tenant.key })));
    const refused = exports.find((r) => r.status === 429)!;

    expect(count(exports, 200)).toBe(2);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body.code).toBe("rate_limited");
    // One request per 1,000 s once the burst of two is spent.
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(990);
    expect(retryAfter).toBeLessThanOrEqual(1_000);
    expect(refused.headers.get("ratelimit")).toContain(`"organization";r=0;t=${retryAfter}`);
  });
});

describe("WebSocket frames and connections", () => {
  const open = (key: string) => TestSocket.open(platform.wsUrl, { authorization: `Bearer ${key}` });

  /** The answer to each frame, by the frame's id (pong or error: both echo it). */
  function answers(socket: TestSocket) {
    const byId = new Map<string, any>();
    socket.socket.on("message", (data) => {
      const frame = JSON.parse(data.toString());
      if (typeof frame.id === "string") byId.set(frame.id, frame);
    });
    return (id: string) => eventually(async () => byId.get(id), 10_000, `an answer to frame ${id}`);
  }

  it("answers a frame over the key's limit with an error frame holding the 429 problem, and keeps the connection open", async () => {
    const tenant = await createTenant(platform);
    // Three for the key: the connection attempt takes one, two pings pass.
    await setRateLimits(platform, tenant.org.id, { apiKey: only(3) });
    const socket = await open(tenant.key);
    const answer = answers(socket);

    const ids = ["p1", "p2", "p3", "p4"];
    for (const id of ids) socket.send({ action: "ping", id });
    const frames = await Promise.all(ids.map(answer));
    await setRateLimits(platform, tenant.org.id, LIFTED_RATE_LIMITS);
    // The override reaches frames within the credential check's cache time (2 s): ping until it does.
    let attempt = 0;
    const pong = await eventually(async () => {
      const id = `after${attempt++}`;
      socket.send({ action: "ping", id });
      const frame = await answer(id);
      return frame.type === "pong" ? frame : undefined;
    }, 10_000, "a pong once the limit is lifted");
    socket.close();

    const errors = frames.filter((f) => f.type === "error");
    expect(frames.filter((f) => f.type === "pong")).toHaveLength(2);
    expect(errors).toHaveLength(2);
    for (const error of errors) {
      expect(error.problem).toMatchObject({ status: 429, code: "rate_limited", policy: "api-key", "violated-policies": ["api-key"] });
      expect(error.problem.retryAfterSeconds).toBeGreaterThan(900);
    }
    expect(pong.type).toBe("pong");
  });

  it("limits the organization's frames across all its connections and keys", async () => {
    const tenant = await createTenant(platform);
    const other = await secondKey(tenant.org.id);
    // Two connection attempts, then four frames from either socket.
    await setRateLimits(platform, tenant.org.id, { organization: only(6), apiKey: roomy });
    const [a, b] = await Promise.all([open(tenant.key), open(other)]);
    const [answerA, answerB] = [answers(a), answers(b)];

    for (let i = 0; i < 5; i++) {
      a.send({ action: "ping", id: `a${i}` });
      b.send({ action: "ping", id: `b${i}` });
    }
    const frames = await Promise.all([0, 1, 2, 3, 4].flatMap((i) => [answerA(`a${i}`), answerB(`b${i}`)]));
    a.close();
    b.close();

    expect(frames.filter((f) => f.type === "pong")).toHaveLength(4);
    expect(frames.filter((f) => f.type === "error" && f.problem.code === "rate_limited" && f.problem.policy === "organization")).toHaveLength(6);
  });

  it("counts connection attempts once authenticated: over the limit, 429 and no socket", async () => {
    const tenant = await createTenant(platform);
    await setRateLimits(platform, tenant.org.id, { apiKey: only(1) });

    const first = await open(tenant.key);
    const second = await open(tenant.key).then(
      () => 0,
      (e: { status?: number }) => e.status,
    );
    const stranger = await TestSocket.open(platform.wsUrl, { authorization: `Bearer ${tenant.key.slice(0, -4)}ffff` }).then(
      () => 0,
      (e: { status?: number }) => e.status,
    );
    first.close();

    expect(second).toBe(429);
    // A bad key is refused as such (401), and charged to nobody.
    expect(stranger).toBe(401);
  });
});

describe("limiter storage", () => {
  const store = () => createRateLimitStore({ client: createDocumentClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }), table: platform.tableName });

  it("is exact under real concurrency: four instances, each with its own cache, 120 concurrent requests, exactly the burst passes", async () => {
    const shared = store();
    const limiters = Array.from({ length: 4 }, () => createRateLimiter({ store: shared }));
    const check = [{ ref: { orgId: "01jratelimitconcurrency000", bucket: "org" }, policy: perSecondPolicy("organization", 0.001, 25) }];

    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) =>
        limiters[i % 4]!.admit(check).then(
          () => "ok",
          (e: unknown) => (e instanceof RateLimitExceeded ? "429" : Promise.reject(e)),
        ),
      ),
    );

    expect(results.filter((r) => r === "ok")).toHaveLength(25);
    expect(results.filter((r) => r === "429")).toHaveLength(95);
  });

  it("costs no write per refused request while the bucket is known to be empty", async () => {
    const real = store();
    let writes = 0;
    const counting: RateLimitStore = {
      restart: (...args) => ((writes += 1), real.restart(...args)),
      advance: (...args) => ((writes += 1), real.advance(...args)),
      rebase: (...args) => ((writes += 1), real.rebase(...args)),
    };
    const limiter = createRateLimiter({ store: counting });
    const check = [{ ref: { orgId: "01jratelimitdenycache000000", bucket: "org" }, policy: perSecondPolicy("organization", 0.001, 3) }];
    const outcome = (p: Promise<unknown>) => p.then(() => "ok", () => "429");
    for (let i = 0; i < 4; i++) await outcome(limiter.admit(check));
    const before = writes;

    const flood = await Promise.all(Array.from({ length: 2_000 }, () => outcome(limiter.admit(check))));

    expect(flood.every((r) => r === "429")).toBe(true);
    expect(writes - before).toBe(0);
  });

  it("keeps each bucket in its own partition under the tenant's prefix, with a TTL, and out of the audit log", async () => {
    const tenant = await createTenant(platform);
    await call(platform, `/organizations/${tenant.org.id}`, { key: tenant.key });
    const db = createDocumentClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" });

    const { Item: item } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.rateWindow(tenant.org.id, "org") }));
    const { Item: keyItem } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.rateWindow(tenant.org.id, `key#${tenant.keyId}`) }));
    const entries = await eventually(async () => {
      const page = await call(platform, `/audit/entries?orgId=${tenant.org.id}&limit=100`, { key: platform.operatorKey });
      return page.body.items.length >= 2 ? (page.body.items as { entity: { type: string } }[]) : undefined;
    });

    expect(item).toMatchObject({ pk: `T#${tenant.org.id}#RL#org`, sk: "RL", entity: "rateWindow" });
    expect(keyItem).toMatchObject({ pk: `T#${tenant.org.id}#RL#key#${tenant.keyId}`, entity: "rateWindow" });
    expect(item!.ttl).toBeGreaterThan(Date.now() / 1000);
    expect(item!.tat).toBeGreaterThan(Date.now() * 1000 - 60_000_000);
    expect(entries.map((e) => e.entity.type)).not.toContain("rateWindow");
  });
});
