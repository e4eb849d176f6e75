import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { keys } from "../../core/db/keys";
import { newId } from "../../core/ids";
import type { Reservation } from "../../core/metering/ports";
import { DEFAULT_MODELS } from "../../core/models/catalog";
import { costMicroUsd, inputTokenUpperBound } from "../../core/models/cost";
import { periodOf } from "../../core/shared/clock";
import { metering as meteringStore } from "../../functions/lib/services/metering";
import { reservationReconciler } from "../../functions/manifest/metering";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, eventually, setRateLimits, startTestPlatform } from "../support/platform";

/**
 * A key's own monthly budget (as LiteLLM's virtual keys have one): besides the organization's budget,
 * a key with `monthlyBudgetUsd` may spend only that much a month. Invariants tried here: concurrent
 * queries never overrun the key's budget; a refusal leaves nothing reserved; other keys of the same
 * organization are not held by it; a reservation abandoned by a killed invocation is given back on
 * both budgets by the reconciler, once.
 */
let platform: Platform;
let slm: FakeOpenAI;
let llm: FakeOpenAI;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  [slm, llm] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  platform = await startTestPlatform({
    env: { AGENTORG_SLM_BASE_URL: slm.baseURL, AGENTORG_LLM_BASE_URL: llm.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" },
  });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } }));
});
afterAll(async () => {
  db?.destroy();
  await platform?.stop();
  await Promise.all([slm?.close(), llm?.close()]);
});
beforeEach(() => {
  slm.reset();
  llm.reset();
});

const ask = (content: string) => [{ role: "user" as const, content }];
const gpt4o = DEFAULT_MODELS.find((m) => m.id === "gpt-4o")!;
const MAX_TOKENS = 2000;

/** Every call costs exactly what it reserves: the provider reports the reservation's own bounds. */
function costsWhatItReserves() {
  llm.respond((request) => ({ usage: { prompt_tokens: inputTokenUpperBound(request.messages as never), completion_tokens: MAX_TOKENS } }));
  return costMicroUsd(gpt4o, inputTokenUpperBound(ask("What is the capital of France?")), MAX_TOKENS);
}

async function keyItem(orgId: string, keyId: string) {
  const { Item = {} } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.keyUsage(orgId, periodOf(new Date()), keyId), ConsistentRead: true }));
  return { committed: Number(Item.committedMicroUsd ?? 0), cost: Number(Item.costMicroUsd ?? 0), open: Number(Item.openReservations ?? 0), queries: Number(Item.queries ?? 0) };
}

async function orgItem(orgId: string) {
  const { Item = {} } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.usage(orgId, periodOf(new Date())), ConsistentRead: true }));
  return { committed: Number(Item.committedMicroUsd ?? 0), open: Number(Item.openReservations ?? 0) };
}

async function budgetedKey(orgId: string, operatorKey: string, monthlyBudgetUsd: number) {
  const created = await call(platform, `/organizations/${orgId}/api-keys`, { method: "POST", key: operatorKey, body: { name: "budgeted-bot", monthlyBudgetUsd } });
  expect(created.status).toBe(201);
  expect(created.body.monthlyBudgetUsd).toBe(monthlyBudgetUsd);
  return { key: created.body.secret as string, keyId: created.body.id as string };
}

describe("a key's own monthly budget", () => {
  it("is never overrun by concurrent queries, and holds only that key", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    await setRateLimits(platform, t.org.id);
    const perCall = costsWhatItReserves();
    // Whole cents that admit 5 calls and not a 6th.
    const budgetUsd = Math.floor((perCall * 5.5) / 10_000) / 100;
    expect(budgetUsd * 1e6).toBeGreaterThanOrEqual(perCall * 5);
    expect(budgetUsd * 1e6).toBeLessThan(perCall * 6);
    const { key, keyId } = await budgetedKey(t.org.id, platform.operatorKey, budgetUsd);

    const results = await Promise.all(
      Array.from({ length: 20 }, () => call(platform, "/chat/completions", { method: "POST", key, body: { model: "gpt-4o", messages: ask("What is the capital of France?"), max_tokens: MAX_TOKENS } })),
    );
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    expect(ok).toHaveLength(5);
    expect(refused).toHaveLength(15);
    expect(refused[0]!.body).toMatchObject({ code: "key_budget_exceeded", limit: "keyMonthlyBudgetUsd", limitUsd: budgetUsd, period: periodOf(new Date()) });
    expect(refused[0]!.body.error).toMatchObject({ code: "insufficient_quota", type: "insufficient_quota" });
    expect(refused[0]!.body.detail).toContain("API key's monthly budget");

    // Nothing is left reserved by the refusals, on either budget.
    expect(await keyItem(t.org.id, keyId)).toEqual({ committed: perCall * 5, cost: perCall * 5, open: 0, queries: 5 });
    expect(await orgItem(t.org.id)).toEqual({ committed: perCall * 5, open: 0 });

    // The official SDK reads it as OpenAI's spent quota.
    const sdk = new OpenAI({ baseURL: platform.apiUrl, apiKey: key, maxRetries: 0 });
    const error = (await sdk.chat.completions.create({ model: "gpt-4o", messages: ask("What is the capital of France?"), max_tokens: MAX_TOKENS }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe("insufficient_quota");
    expect(error.error).toMatchObject({ message: expect.stringContaining(`$${budgetUsd}`) });

    // The organization's other key is not held by this key's budget.
    const other = await call(platform, "/chat/completions", { method: "POST", key: t.key, body: { model: "gpt-4o", messages: ask("What is the capital of France?"), max_tokens: MAX_TOKENS } });
    expect(other.status).toBe(200);

    // The listing shows the month's spend against the budget.
    const listed = await call(platform, `/organizations/${t.org.id}/api-keys`, { key: t.key });
    const budgeted = listed.body.items.find((k: { id: string }) => k.id === keyId);
    expect(budgeted.spend).toEqual({ period: periodOf(new Date()), spentUsd: Math.round(perCall * 5 / 10_000) / 100, remainingUsd: Math.max(0, Math.round((budgetUsd * 1e6 - perCall * 5) / 10_000) / 100) });
    expect(listed.body.items.find((k: { id: string }) => k.id === t.keyId).spend).toBeUndefined();
  });

  it("can be raised, removed and set again; a revoked key cannot be changed; another tenant's key is a 404", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    await setRateLimits(platform, t.org.id);
    const perCall = costsWhatItReserves();
    const { key, keyId } = await budgetedKey(t.org.id, t.key, 0.01);
    expect(perCall).toBeGreaterThan(10_000);
    const query = () => call(platform, "/chat/completions", { method: "POST", key, body: { model: "gpt-4o", messages: ask("What is the capital of France?"), max_tokens: MAX_TOKENS } });
    expect((await query()).body.code).toBe("key_budget_exceeded");

    const raised = await call(platform, `/organizations/${t.org.id}/api-keys/${keyId}`, { method: "PATCH", key: t.key, body: { monthlyBudgetUsd: 100 } });
    expect(raised.status).toBe(200);
    expect(raised.body).toMatchObject({ id: keyId, monthlyBudgetUsd: 100, name: "budgeted-bot" });
    // Other function instances trust their cached answer for at most CREDENTIAL_CHECK_TTL_MS.
    await eventually(async () => ((await query()).status === 200 ? true : undefined), 10_000, "the raised budget");

    const removed = await call(platform, `/organizations/${t.org.id}/api-keys/${keyId}`, { method: "PATCH", key: t.key, body: { monthlyBudgetUsd: null, name: "unbounded-bot" } });
    expect(removed.status).toBe(200);
    expect(removed.body.monthlyBudgetUsd).toBeUndefined();
    expect(removed.body.name).toBe("unbounded-bot");

    expect((await call(platform, `/organizations/${t.org.id}/api-keys/${keyId}`, { method: "PATCH", key: t.key, body: {} })).body.code).toBe("validation_failed");
    const tooSmall = await call(platform, `/organizations/${t.org.id}/api-keys/${keyId}`, { method: "PATCH", key: t.key, body: { monthlyBudgetUsd: 0.001 } });
    expect(tooSmall.status).toBe(400);
    expect(tooSmall.body.errors[0]).toMatchObject({ field: "monthlyBudgetUsd", message: "must be in whole cents" });

    const stranger = await createTenant(platform);
    const foreign = await call(platform, `/organizations/${t.org.id}/api-keys/${keyId}`, { method: "PATCH", key: stranger.key, body: { monthlyBudgetUsd: 5 } });
    expect(foreign.status).toBe(404);

    await call(platform, `/organizations/${t.org.id}/api-keys/${keyId}`, { method: "DELETE", key: t.key });
    const afterRevoke = await call(platform, `/organizations/${t.org.id}/api-keys/${keyId}`, { method: "PATCH", key: t.key, body: { monthlyBudgetUsd: 5 } });
    expect(afterRevoke.status).toBe(409);
    expect(afterRevoke.body.code).toBe("api_key_revoked");
    const missing = await call(platform, `/organizations/${t.org.id}/api-keys/${newId()}`, { method: "PATCH", key: t.key, body: { monthlyBudgetUsd: 5 } });
    expect(missing.status).toBe(404);
  });

  it("a reservation its invocation abandoned is given back on both budgets by the reconciler, exactly once", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const { keyId } = await budgetedKey(t.org.id, t.key, 1);
    const metering = meteringStore();
    const abandoned: Reservation = { id: newId(), orgId: t.org.id, period: periodOf(new Date()), amountMicroUsd: 7_000, expiresAt: Date.now() - 1, keyId };
    expect(await metering.reserve(abandoned, 1_000_000_000, 1_000_000)).toBe("reserved");
    expect(await keyItem(t.org.id, keyId)).toMatchObject({ committed: 7_000, open: 1 });
    // The key's budget refuses what would take it over, and the organization's is untouched by that refusal.
    const over: Reservation = { ...abandoned, id: newId(), amountMicroUsd: 995_000, expiresAt: Date.now() + 60_000 };
    expect(await metering.reserve(over, 1_000_000_000, 1_000_000)).toBe("key_budget_exceeded");
    expect(await orgItem(t.org.id)).toEqual({ committed: 7_000, open: 1 });

    await platform.scheduler.run(reservationReconciler.name);
    expect(await keyItem(t.org.id, keyId)).toMatchObject({ committed: 0, open: 0 });
    expect(await orgItem(t.org.id)).toEqual({ committed: 0, open: 0 });
    // A second release (an overlapping reconciler run) gives nothing back twice.
    expect(await metering.releaseExpired(abandoned, Date.now())).toBe(false);
    expect(await keyItem(t.org.id, keyId)).toMatchObject({ committed: 0, open: 0 });
  });
});
