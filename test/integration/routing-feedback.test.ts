import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { MAX_STEP, MIN_FEEDBACK } from "../../core/routing/feedback-calibration";
import { classifier } from "../../core/routing/classifier";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, setRateLimits, startTestPlatform } from "../support/platform";

/*
 * A tenant's own evidence on routing: feedback on its completions (POST /chat/completions/{id}/feedback,
 * GET /routing/feedback) and the threshold calibration from it (POST /routing/calibrate-from-feedback),
 * through the real platform, with both tiers answered by fake OpenAI servers through the `openai` SDK.
 */

let platform: Platform;
let slm: FakeOpenAI;
let llm: FakeOpenAI;

beforeAll(async () => {
  [slm, llm] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  platform = await startTestPlatform({
    env: {
      AGENTORG_SLM_BASE_URL: slm.baseURL,
      AGENTORG_LLM_BASE_URL: llm.baseURL,
      AGENTORG_MODEL_TIMEOUT_MS: "2000",
      AGENTORG_MODEL_MAX_RETRIES: "0",
    },
  });
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
/** A question of middling difficulty: its score (by the real classifier) is where a threshold can sit above it. */
const PROMPT = "A train travels 60 km in 45 minutes. At the same speed, how long does it take to travel 200 km? Show the steps.";
const SCORE = classifier.score([{ role: "user", content: PROMPT }]);

type Agentorg = { tier: "slm" | "llm"; score: number | null; threshold: number | null; reason: { code: string; detail: string } };

/** One completion of `PROMPT` (model auto): its id and routing decision. */
async function ask(key: string) {
  const completion = await sdk(key).chat.completions.create({ model: "auto", messages: [{ role: "user", content: PROMPT }] });
  return { id: completion.id, agentorg: (completion as unknown as { agentorg: Agentorg }).agentorg };
}

const feedback = (key: string, id: string, body: unknown) => call(platform, `/chat/completions/${id}/feedback`, { method: "POST", key, body });
const calibrate = (key: string, body: unknown = {}) => call(platform, "/routing/calibrate-from-feedback", { method: "POST", key, body });
const settings = async (key: string) => (await call(platform, "/routing/settings", { key })).body;

/** A tenant whose threshold sits just above PROMPT's score (so it goes to the SLM), with rate limits lifted. */
async function tenantRoutingPromptToSlm() {
  const tenant = await createTenant(platform);
  await setRateLimits(platform, tenant.org.id);
  const put = await call(platform, "/routing/settings", { method: "PUT", key: tenant.key, body: { override: { mode: "threshold", threshold: Math.min(0.95, SCORE + 0.03) } } });
  expect(put.status).toBe(200);
  return tenant;
}

describe("feedback on completions", () => {
  it("stores the organization's feedback with the decision read from the cost record; a second replaces it, the same again changes nothing", async () => {
    const { key, keyId } = await createTenant(platform);
    const { id, agentorg } = await ask(key);

    const first = await feedback(key, id, { rating: "down", neededLargeModel: true, comment: "Wrong arithmetic." });
    const second = await feedback(key, id, { rating: "up" });
    const again = await feedback(key, id, { rating: "up" });
    const listed = await call(platform, "/routing/feedback", { key });

    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({
      id,
      rating: "down",
      neededLargeModel: true,
      comment: "Wrong arithmetic.",
      changed: true,
      decision: { tier: agentorg.tier, score: agentorg.score, threshold: agentorg.threshold, reason: agentorg.reason.code },
    });
    expect(second.body).toMatchObject({ id, rating: "up", neededLargeModel: null, comment: null, changed: true });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ rating: "up", changed: false, time: second.body.time });
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0]).toMatchObject({ id, rating: "up", decision: { score: agentorg.score }, updatedBy: `key:${keyId}` });
    expect(Object.keys(listed.body.items[0]).sort()).toEqual(["comment", "decision", "id", "neededLargeModel", "rating", "time", "updatedBy"]);
  });

  it("answers 404 for another organization's completion and for ids that do not exist, and keeps nothing", async () => {
    const owner = await createTenant(platform);
    const other = await createTenant(platform);
    const { id } = await ask(owner.key);

    const foreign = await feedback(other.key, id, { rating: "down" });
    const unknown = await feedback(other.key, "chatcmpl-01jz00000000000000000000aa", { rating: "down" });
    const malformed = await feedback(other.key, "not-a-completion", { rating: "down" });

    for (const answer of [foreign, unknown, malformed]) {
      expect(answer.status).toBe(404);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body.code).toBe("not_found");
    }
    expect((await call(platform, "/routing/feedback", { key: other.key })).body.items).toEqual([]);
    expect((await call(platform, "/routing/feedback", { key: owner.key })).body.items).toEqual([]);
  });

  it("refuses a bad body with a 400 problem naming the field, and a forged decision with it", async () => {
    const { key } = await createTenant(platform);
    const { id } = await ask(key);

    const badRating = await feedback(key, id, { rating: "meh" });
    const forged = await feedback(key, id, { rating: "down", score: 0.99, tier: "llm" });
    const longComment = await feedback(key, id, { rating: "down", comment: "x".repeat(1001) });

    for (const [answer, field] of [
      [badRating, "rating"],
      [forged, "score,tier"],
      [longComment, "comment"],
    ] as const) {
      expect(answer.status).toBe(400);
      expect(answer.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(answer.body.code).toBe("validation_failed");
      expect(answer.body.errors.map((e: { field: string }) => e.field)).toEqual([field]);
    }
    expect((await call(platform, "/routing/feedback", { key })).body.items).toEqual([]);
  });

  it("is recorded in the tenant's audit log", async () => {
    const { key } = await createTenant(platform);
    const { id } = await ask(key);

    await feedback(key, id, { rating: "up" });
    await platform.poller.drained();
    const entries = await call(platform, "/audit/entries?limit=100", { key });

    expect(entries.body.items.map((e: { action: string; entity: { type: string } }) => `${e.action} ${e.entity.type}`)).toContain("insert routingFeedback");
  });
});

describe("calibration from feedback", () => {
  it("does not move the threshold with too little feedback", async () => {
    const { key } = await tenantRoutingPromptToSlm();
    const before = await settings(key);
    for (let i = 0; i < 5; i++) {
      const { id } = await ask(key);
      await feedback(key, id, { rating: "down", neededLargeModel: true });
    }

    const report = await calibrate(key);

    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      dryRun: false,
      applied: false,
      outcome: "too_little_feedback",
      feedback: { total: 5, counted: 5, minimum: MIN_FEEDBACK, byTier: { slm: { up: 0, down: 5, neededLargeModel: 5 } } },
      threshold: { before: before.override.threshold, after: before.override.threshold, moved: 0 },
      decisions: { considered: 5, changed: 0, changedShare: 0 },
    });
    expect(await settings(key)).toEqual(before);
  });

  it("moves the threshold down when SLM answers needed the large model, so the next such query goes to the LLM; a dry run changes nothing", async () => {
    const { key } = await tenantRoutingPromptToSlm();
    const initial = await settings(key);
    for (let i = 0; i < MIN_FEEDBACK; i++) {
      const { id, agentorg } = await ask(key);
      expect(agentorg.tier).toBe("slm");
      expect((await feedback(key, id, { rating: "down", neededLargeModel: true })).status).toBe(200);
    }

    const dry = await calibrate(key, { dryRun: true });
    const afterDryRun = await settings(key);
    const stillSlm = await ask(key);
    const applied = await calibrate(key);
    const next = await ask(key);

    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, applied: false, outcome: "moved", settings: initial });
    expect(afterDryRun).toEqual(initial);
    expect(stillSlm.agentorg.tier).toBe("slm");

    expect(applied.status).toBe(200);
    const { threshold } = applied.body;
    expect(applied.body).toMatchObject({ dryRun: false, applied: true, outcome: "moved" });
    expect(threshold).toEqual(dry.body.threshold);
    expect(threshold.before).toBe(initial.override.threshold);
    expect(threshold.after).toBeLessThan(threshold.before);
    expect(threshold.after).toBeLessThanOrEqual(SCORE);
    expect(threshold.before - threshold.after).toBeLessThanOrEqual(MAX_STEP + 1e-9);
    expect(threshold.moved).toBeCloseTo(threshold.after - threshold.before, 4);
    // Every routed decision so far (the 20 rated and the one after the dry run) had PROMPT's score.
    expect(applied.body.decisions).toEqual({ considered: MIN_FEEDBACK + 1, changed: MIN_FEEDBACK + 1, changedShare: 1 });
    expect(applied.body.feedback).toMatchObject({ total: MIN_FEEDBACK, counted: MIN_FEEDBACK, byTier: { slm: { down: MIN_FEEDBACK, neededLargeModel: MIN_FEEDBACK } } });
    expect(await settings(key)).toEqual({ override: { mode: "threshold", threshold: threshold.after, source: "feedback" }, calibration: null });

    expect(next.agentorg.tier).toBe("llm");
    expect(next.agentorg.threshold).toBe(threshold.after);
    expect(next.agentorg.reason.detail).toMatch(/calibrated from feedback/);
    expect(llm.requests).toHaveLength(1);
  });

  it("keeps `source: \"feedback\"` for the calibration to say: a threshold PUT by hand has none", async () => {
    const { key } = await createTenant(platform);

    const put = await call(platform, "/routing/settings", { method: "PUT", key, body: { override: { mode: "threshold", threshold: 0.45, source: "feedback" } } });

    expect(put.status).toBe(200);
    expect(await settings(key)).toEqual({ override: { mode: "threshold", threshold: 0.45 }, calibration: null });
  });

  it("is refused with 409 when routing is off, and is the organization key's own", async () => {
    const { key } = await createTenant(platform);
    await call(platform, "/routing/settings", { method: "PUT", key, body: { override: { mode: "fixed", tier: "slm" } } });

    const refused = await calibrate(key);
    const operator = await calibrate(platform.operatorKey);
    const badBody = await calibrate(key, { dryRun: "yes" });

    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe("routing_fixed_tier");
    expect(operator.status).toBe(403);
    expect(badBody.status).toBe(400);
    expect(badBody.body.errors[0].field).toBe("dryRun");
  });
});
