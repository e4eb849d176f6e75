import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { keys } from "../../core/db/keys";
import { newId } from "../../core/ids";
import type { Reservation, UsageRecord } from "../../core/metering/ports";
import { reconcileReservations, type ReconcileReport } from "../../core/metering/reconciler";
import { periodOf } from "../../core/shared/clock";
import { chat as chatService } from "../../functions/lib/services/chat";
import { metering as meteringStore } from "../../functions/lib/services/metering";
import { reservationReconciler } from "../../functions/manifest/metering";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, eventually, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

/**
 * Fault: model calls slower than the function's time, and invocations that die holding a budget
 * reservation.
 *
 * The platform runs every route's function with a 5 s timeout (its invocation contexts count down from it, as
 * Lambda's do), while a model call may take 30 s (AGENTORG_MODEL_TIMEOUT_MS) plus a retry: the
 * configuration that made Lambda kill the function before the model call ended, leaking the
 * reservation. Invariants:
 * - a request whose models are slower than the time left answers 504 `model_timeout` before the
 *   function's timeout, with its reservation released; a fallback that has no time left is skipped
 *   (recorded as such), not started;
 * - a stream still running at the deadline ends with an error event, its reservation released;
 * - a reservation whose invocation died (a real one in a child process killed with SIGKILL mid-call,
 *   and one written and abandoned) is released by the reconciler once it expires, exactly once, and
 *   never before; no mock: the reconciler's clock is moved past an expiry instead of waiting for it;
 * - a reconciler racing a late settle never gives a reservation back twice.
 */
const FUNCTION_TIMEOUT_MS = 5_000;
let platform: Platform;
let slm: FakeOpenAI;
let llm: FakeOpenAI;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  [slm, llm] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  platform = await startTestPlatform({
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
    env: {
      AGENTORG_SLM_BASE_URL: slm.baseURL,
      AGENTORG_LLM_BASE_URL: llm.baseURL,
      AGENTORG_MODEL_TIMEOUT_MS: "30000",
      AGENTORG_MODEL_MAX_RETRIES: "1",
    },
  });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
  // Load the handlers once (an invalid request each): as in Lambda, a module's import is its cold start,
  // before the invocation's clock starts, and it must not eat into the times measured below.
  const t = await createTenant(platform);
  await call(platform, "/chat/completions", { method: "POST", key: t.key, body: {} });
  const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
  const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
  socket.send({ action: "chat" });
  await socket.next("error", 20_000);
  socket.close();
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

/** The period's usage item: committed spend (settled cost + open reservations), cost, open reservations. */
async function usage(orgId: string) {
  const { Item = {} } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.usage(orgId, periodOf(new Date())), ConsistentRead: true }));
  return {
    committed: Number(Item.committedMicroUsd ?? 0),
    cost: Number(Item.costMicroUsd ?? 0),
    queries: Number(Item.queries ?? 0),
    open: Number(Item.openReservations ?? 0),
    reservations: Object.keys(Item).filter((name) => name.startsWith("res:")),
  };
}

const ask = (key: string, extra: Record<string, unknown> = {}) =>
  call(platform, "/chat/completions", { method: "POST", key, body: { model: "auto", max_tokens: 50, messages: [{ role: "user", content: "hello" }], ...extra } });

describe("model calls within the function's deadline", () => {
  it("answers 504 before the function's timeout when the model is slower, skips the fallback that has no time, and releases the reservation", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    slm.respond(() => ({ hang: true }));
    llm.respond(() => ({ hang: true }));

    const started = Date.now();
    const response = await ask(t.key);
    const elapsed = Date.now() - started;

    expect(response.status).toBe(504);
    expect(response.headers.get("content-type")).toMatch(/application\/problem\+json/);
    expect(response.body.code).toBe("model_timeout");
    // The deadline, not the 30 s per-call timeout, ended the call: Lambda would have killed it at 5 s.
    expect(elapsed).toBeLessThan(FUNCTION_TIMEOUT_MS);
    const attempts = response.body.attempts as { model: string; ok: boolean; error: string }[];
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!.error).toMatch(/^skipped: no time left/);
    // The skipped fallback was never called; the first tier was called once (no time for the SDK's retry either).
    expect([...slm.requests, ...llm.requests].filter((r) => r.path === "/v1/chat/completions")).toHaveLength(1);
    const after = await usage(t.org.id);
    expect(after).toMatchObject({ committed: 0, open: 0, queries: 0, reservations: [] });
  });

  it("does not sleep through a Retry-After longer than the time left (the SDK would obey it)", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    slm.respond(() => ({ error: { status: 429, headers: { "retry-after": "60" } } }));
    llm.respond(() => ({ error: { status: 429, headers: { "retry-after": "60" } } }));

    const started = Date.now();
    const response = await ask(t.key);

    expect(response.status).toBe(504);
    expect(response.body.code).toBe("model_timeout");
    expect(Date.now() - started).toBeLessThan(FUNCTION_TIMEOUT_MS);
    expect(await usage(t.org.id)).toMatchObject({ committed: 0, open: 0, reservations: [] });
  });

  it("ends a stream still running at the deadline with an error event and releases its reservation", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const slow = { chunks: Array.from({ length: 40 }, (_, i) => `w${i} `), chunkDelayMs: 250 };
    slm.respond(() => slow);
    llm.respond(() => slow);

    const response = await ask(t.key, { stream: true });

    expect(response.status).toBe(200);
    const events = response.text.split("\n\n").filter((e) => e.startsWith("data: "));
    // Some of the answer went out before the deadline; then the stream ended with the timeout.
    expect(events.some((e) => e.includes('"delta"'))).toBe(true);
    const last = JSON.parse(events.at(-1)!.slice("data: ".length));
    expect(last.error).toMatchObject({ code: "model_timeout", status: 504 });
    expect(await usage(t.org.id)).toMatchObject({ committed: 0, open: 0, queries: 0, reservations: [] });
  });
});

describe("an agent turn", () => {
  it("shares one deadline among the model calls of its tool loop: the step that no longer fits is refused, not started", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const ceo = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "CEO", roleId: "ceo" } });
    expect(ceo.status).toBe(201);
    // Each step takes 2.5 s and asks for another tool call: six steps (the loop's bound) would take 15 s,
    // far past the 5 s the function has; the first fits, the second no longer does.
    const step = { toolCalls: [{ name: "broadcast", arguments: { body: "status?" } }], delayMs: 2_500 };
    slm.respond(() => step);
    llm.respond(() => step);
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
    const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
    try {
      const started = Date.now();
      socket.send({ action: "chat", id: "turn-1", agentId: ceo.body.id, message: "report" });
      const error = await socket.next("error", 20_000);
      expect(Date.now() - started).toBeLessThan(FUNCTION_TIMEOUT_MS);
      expect(error).toMatchObject({ id: "turn-1", problem: { code: "model_timeout", status: 504 } });
      expect([...slm.requests, ...llm.requests].filter((r) => r.path === "/v1/chat/completions")).toHaveLength(1);
      // The step that ran is settled; the refused one never reserved anything.
      const after = await usage(t.org.id);
      expect(after).toMatchObject({ queries: 1, open: 0, reservations: [] });
      expect(after.committed).toBe(after.cost);
    } finally {
      socket.close();
    }
  });
});

describe("the streaming routes' limit", () => {
  it("is stated in the OpenAPI document, with what happens at it", async () => {
    const openapi = await call(platform, "/openapi.json");
    const operation = openapi.body.paths["/api/v1/chat/completions"].post;
    expect(operation.description).toContain("at most 5 minutes");
    expect(openapi.body.paths["/api/v1/audit/export"].get.description).toContain("at most 5 minutes");
    expect(operation.description).toContain("model_timeout");
    expect(operation.description).toContain("reservation is released");
    expect(operation.responses["504"]).toBeDefined();
  });
});

describe("the reservation reconciler", () => {
  const runReconciler = () => platform.scheduler.run(reservationReconciler.name) as Promise<ReconcileReport>;

  it("releases a reservation its invocation abandoned, once it expires, exactly once, and leaves a live one alone", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const metering = meteringStore();
    const period = periodOf(new Date());
    // What a process killed between reserve and settle leaves: a reservation nobody will close. This one
    // was made by an invocation whose deadline (plus grace) is already over.
    const abandoned: Reservation = { id: newId(), orgId: t.org.id, period, amountMicroUsd: 7_000, expiresAt: Date.now() - 1 };
    expect(await metering.reserve(abandoned, 1_000_000_000)).toBe("reserved");
    // A live one: a plan made now, whose invocation may still settle it.
    const live = await chatService().plan({ kind: "org", orgId: t.org.id, keyId: t.keyId }, { model: "auto", max_tokens: 50, messages: [{ role: "user", content: "still running" }] }, { deadline: Date.now() + 60_000 });
    expect(await usage(t.org.id)).toMatchObject({ committed: 7_000 + live.reservedMicroUsd, open: 2 });

    const first = await runReconciler();
    expect(first.complete).toBe(true);
    expect(await usage(t.org.id)).toMatchObject({ committed: live.reservedMicroUsd, open: 1, reservations: [`res:${live.reservation.id}`] });

    // Run again (the next schedule): nothing is given back twice.
    expect((await runReconciler()).complete).toBe(true);
    expect(await usage(t.org.id)).toMatchObject({ committed: live.reservedMicroUsd, open: 1 });
    // An overlapping run that read the reservation before the first released it (two invocations of the
    // schedule may overlap in AWS) gives nothing back either.
    expect(await metering.releaseExpired(abandoned, Date.now())).toBe(false);
    expect(await usage(t.org.id)).toMatchObject({ committed: live.reservedMicroUsd, open: 1 });

    // The live invocation still settles normally.
    await chatService().complete(live);
    const settled = await usage(t.org.id);
    expect(settled).toMatchObject({ open: 0, reservations: [], queries: 1 });
    expect(settled.committed).toBe(settled.cost);
  });

  it("releases the reservation of a process killed in the middle of its model call, once it expires", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    slm.respond(() => ({ hang: true }));
    llm.respond(() => ({ hang: true }));
    // Arrange: a real invocation in its own process reserves, calls the (hanging) model, and is killed.
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "../support/hold-reservation.ts")], {
      cwd: join(import.meta.dirname, "../.."),
      env: { ...process.env, ORG_ID: t.org.id, KEY_ID: t.keyId, POWERTOOLS_LOG_LEVEL: "SILENT" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (chunk: Buffer) => {
        out += chunk.toString();
        if (out.includes("\n")) resolve(out.slice(0, out.indexOf("\n")));
      });
      child.once("exit", (code) => reject(new Error(`the invocation exited (${code}) before reserving: ${out}`)));
    });
    const { reservation } = JSON.parse(line) as { reservation: Reservation };
    await eventually(async () => (slm.requests.length + llm.requests.length > 0 ? true : undefined), 20_000, "the model call");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
    expect(await usage(t.org.id)).toMatchObject({ committed: reservation.amountMicroUsd, open: 1 });

    // Before its expiry (its deadline plus a grace), the reconciler leaves it: the invocation might still settle.
    await runReconciler();
    expect(await usage(t.org.id)).toMatchObject({ committed: reservation.amountMicroUsd, open: 1 });

    // After it (the reconciler's clock moved past the expiry rather than the test waiting 90 s), it is
    // released, and a second run finds nothing more to give back.
    const later = { now: () => new Date(reservation.expiresAt + 1) };
    const first = await reconcileReservations({ metering: meteringStore(), clock: later });
    const second = await reconcileReservations({ metering: meteringStore(), clock: later });
    expect(first.released).toBeGreaterThanOrEqual(1);
    expect(await usage(t.org.id)).toMatchObject({ committed: 0, open: 0, reservations: [] });
    expect(second.complete).toBe(true);
    expect(await usage(t.org.id)).toMatchObject({ committed: 0, open: 0 });
  }, 60_000);

  it("never gives a reservation back twice when it races a late settle", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const metering = meteringStore();
    const period = periodOf(new Date());
    const now = Date.now();
    // Expired reservations whose invocations settle just as the reconciler releases them: each pair
    // races on the same reservation, and either order must leave committed = cost.
    const reservations: Reservation[] = Array.from({ length: 16 }, (_, i) => ({ id: newId(), orgId: t.org.id, period, amountMicroUsd: 10_000 + i, expiresAt: now - 1 }));
    for (const r of reservations) expect(await metering.reserve(r, 1_000_000_000)).toBe("reserved");
    const record = (r: Reservation, cost: number): UsageRecord => ({
      id: newId(),
      orgId: t.org.id,
      time: new Date().toISOString(),
      requestedModel: "auto",
      model: "llama-3.2-3b",
      tier: "slm",
      score: null,
      threshold: null,
      reason: { code: "pinned", detail: "race test" },
      attempts: [{ model: "llama-3.2-3b", tier: "slm", ok: true, latencyMs: 1 }],
      inputTokens: 10,
      outputTokens: 10,
      costMicroUsd: cost,
      baselineMicroUsd: cost,
      latencyMs: 1,
      offline: false,
      estimated: false,
      stream: false,
    });
    const costs = reservations.map((_, i) => 100 + i);
    await Promise.all(reservations.map((r, i) => Promise.all([metering.settle(r, record(r, costs[i]!)), metering.releaseExpired(r, now)])));

    const after = await usage(t.org.id);
    expect(after.open).toBe(0);
    expect(after.reservations).toEqual([]);
    expect(after.queries).toBe(reservations.length);
    expect(after.cost).toBe(costs.reduce((a, b) => a + b, 0));
    // Whichever won each race, every reservation was closed once: committed is exactly the settled cost.
    expect(after.committed).toBe(after.cost);
    // And the reconciler that comes after finds nothing left to release.
    const report = await runReconciler();
    expect(report.complete).toBe(true);
    expect(await usage(t.org.id)).toMatchObject({ committed: after.cost, open: 0 });
  });
});
