import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { auditConsumer } from "../../functions/manifest/audit";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeChatRequest, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

/**
 * People in the loop, on the real platform: agents (driven by the fake model server through the real
 * `openai` SDK) call tools their role marks as needing approval; the call is held as an approval
 * request, and a person approves or rejects it through the API. The audit consumer runs, so requests
 * and decisions are checked in the audit chain.
 */
let platform: Platform;
let model: FakeOpenAI;
type Tenant = Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({
    consumers: [auditConsumer],
    env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" },
  });
});
afterAll(async () => {
  await platform?.stop();
  await model?.close();
});
beforeEach(() => model.reset());

async function agent(t: Tenant, name: string, roleId: string, managerId: string | null = null) {
  const result = await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } });
  if (result.status !== 201) throw new Error(`create ${name}: ${result.status} ${result.text}`);
  return result.body.id as string;
}

async function chat(t: Tenant, agentId: string, message: string) {
  const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
  const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
  socket.send({ action: "chat", agentId, message });
  const done = await socket.next("chat.done", 20_000);
  socket.close();
  return done;
}

const lastToolResult = (request: FakeChatRequest) => JSON.parse(String((request.messages.at(-1) as { content: string }).content));
const inbox = async (t: Tenant, agentId: string) => (await call(platform, `/agents/${agentId}/messages`, { key: t.key })).body.items as Record<string, any>[];

/** A normal change waiting for authorization (moved there by a key, which may authorize by default). */
async function changeAwaitingAuthorization(t: Tenant) {
  const change = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "change", title: "Upgrade the database", changeType: "normal", risk: "high", impact: 2, urgency: 2 } });
  for (const to of ["assess", "authorize"]) {
    const moved = await call(platform, `/tickets/${change.body.id}/transitions`, { method: "POST", key: t.key, body: { to } });
    if (moved.status !== 200) throw new Error(`move to ${to}: ${moved.status} ${moved.text}`);
  }
  return change.body as { id: string; number: string };
}

/** A change manager asked to schedule a change: its transition is held for approval. */
async function heldSchedule(t: Tenant, team?: { ceo: string; cm: string }) {
  const change = await changeAwaitingAuthorization(t);
  const ceo = team?.ceo ?? (await agent(t, "Ada", "ceo"));
  const cm = team?.cm ?? (await agent(t, "Carl", "change-manager", ceo));
  const seen: unknown[] = [];
  model.script({ toolCalls: [{ name: "transition_ticket", arguments: { ticket: change.number, to: "scheduled", note: "Tonight 22:00-23:00" } }] });
  model.respond((request) => {
    seen.push(lastToolResult(request));
    return "Scheduling waits for approval.";
  });
  await chat(t, cm, `Schedule ${change.number} for tonight.`);
  return { change, cm, ceo, seen };
}

describe("approvals", () => {
  it("holds a change manager's scheduling of a change; approving runs it as the agent and tells the agent", async () => {
    const t = await createTenant(platform);
    const { change, cm, seen } = await heldSchedule(t);

    expect(seen[0]).toMatchObject({ status: "pending_approval", approvalId: expect.any(String) });
    const approvalId = (seen[0] as { approvalId: string }).approvalId;
    expect((await call(platform, `/tickets/${change.id}`, { key: t.key })).body.state).toBe("authorize");
    const pending = await call(platform, "/approvals?status=pending", { key: t.key });
    expect(pending.body.items).toEqual([
      expect.objectContaining({ id: approvalId, status: "pending", requestedBy: cm, requestedByName: "Carl", kind: "tool_call", action: { tool: "transition_ticket", arguments: expect.objectContaining({ to: "scheduled" }), rule: "transition_ticket:scheduled" } }),
    ]);
    expect(pending.body.items[0].summary).toContain(`move ${change.number} to scheduled`);

    const approved = await call(platform, `/approvals/${approvalId}/approve`, { method: "POST", key: t.key, body: { comment: "go" } });

    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ status: "approved", decidedBy: `key:${t.keyId}`, reason: "go", outcome: { ok: true } });
    const after = (await call(platform, `/tickets/${change.id}`, { key: t.key })).body;
    expect(after).toMatchObject({ state: "scheduled", approval: "approved", updatedBy: `agent:${cm}` });
    const told = (await inbox(t, cm)).filter((m) => m.from === "system");
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ kind: "direct", to: cm, subject: "Approved: transition_ticket" });
    expect(told[0]!.body).toContain("It ran");
    expect((await call(platform, "/approvals?status=pending", { key: t.key })).body.items).toEqual([]);
    expect((await call(platform, "/approvals?status=approved", { key: t.key })).body.items.map((a: { id: string }) => a.id)).toEqual([approvalId]);

    // The request and its decision are in the organization's audit chain.
    await platform.poller.drained();
    const entries = (await call(platform, "/audit/entries?limit=100", { key: t.key })).body.items as { entity: { type: string; id: string }; action: string }[];
    const audited = entries.filter((e) => e.entity.type === "approval" && e.entity.id === approvalId).map((e) => e.action);
    expect(audited).toEqual(expect.arrayContaining(["insert", "modify"]));
  });

  it("rejecting runs nothing and tells the agent why", async () => {
    const t = await createTenant(platform);
    const { change, cm, seen } = await heldSchedule(t);
    const approvalId = (seen[0] as { approvalId: string }).approvalId;

    const rejected = await call(platform, `/approvals/${approvalId}/reject`, { method: "POST", key: t.key, body: { reason: "Change freeze this week" } });

    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({ status: "rejected", reason: "Change freeze this week" });
    expect(rejected.body.outcome).toBeUndefined();
    const after = (await call(platform, `/tickets/${change.id}`, { key: t.key })).body;
    expect(after.state).toBe("authorize");
    expect(after.history.filter((h: { action: string }) => h.action === "transitioned")).toHaveLength(2);
    const [told] = (await inbox(t, cm)).filter((m) => m.from === "system");
    expect(told).toMatchObject({ subject: "Rejected: transition_ticket" });
    expect(told!.body).toContain("Change freeze this week");
  });

  it("refuses a second decision (409 approval_decided), and of two concurrent decisions exactly one wins", async () => {
    const t = await createTenant(platform);
    const first = await heldSchedule(t);
    const firstId = (first.seen[0] as { approvalId: string }).approvalId;
    expect((await call(platform, `/approvals/${firstId}/reject`, { method: "POST", key: t.key, body: { reason: "no" } })).status).toBe(200);

    const again = await call(platform, `/approvals/${firstId}/approve`, { method: "POST", key: t.key, body: {} });
    expect(again.status).toBe(409);
    expect(again.headers.get("content-type")).toContain("application/problem+json");
    expect(again.body).toMatchObject({ code: "approval_decided", decision: "rejected" });

    model.reset();
    const second = await heldSchedule(t, first);
    const secondId = (second.seen[0] as { approvalId: string }).approvalId;
    const [a, b] = await Promise.all([
      call(platform, `/approvals/${secondId}/approve`, { method: "POST", key: t.key, body: {} }),
      call(platform, `/approvals/${secondId}/reject`, { method: "POST", key: t.key, body: { reason: "racing" } }),
    ]);

    expect([a.status, b.status].sort()).toEqual([200, 409]);
    const loser = a.status === 409 ? a : b;
    expect(loser.body.code).toBe("approval_decided");
    const final = (await call(platform, `/approvals/${secondId}`, { key: t.key })).body;
    expect(final.status).toBe(a.status === 200 ? "approved" : "rejected");
    // One message to the agent per decision: the first request's rejection and the race's winner.
    expect((await inbox(t, second.cm)).filter((m) => m.from === "system")).toHaveLength(2);
  });

  it("keeps each organization's approvals to itself (404 for another's)", async () => {
    const t = await createTenant(platform);
    const other = await createTenant(platform);
    const { seen, change } = await heldSchedule(t);
    const approvalId = (seen[0] as { approvalId: string }).approvalId;

    expect((await call(platform, `/approvals/${approvalId}`, { key: other.key })).status).toBe(404);
    const approve = await call(platform, `/approvals/${approvalId}/approve`, { method: "POST", key: other.key, body: {} });
    expect(approve.status).toBe(404);
    expect(approve.body.code).toBe("not_found");
    expect((await call(platform, `/approvals/${approvalId}/reject`, { method: "POST", key: other.key, body: { reason: "x" } })).status).toBe(404);
    expect((await call(platform, "/approvals", { key: other.key })).body.items).toEqual([]);
    // Still pending for its own organization, and nothing ran.
    expect((await call(platform, `/approvals/${approvalId}`, { key: t.key })).body.status).toBe("pending");
    expect((await call(platform, `/tickets/${change.id}`, { key: t.key })).body.state).toBe("authorize");
  });

  it("holds any tool a custom role lists in approvalRequired (escalate), and runs it on approval", async () => {
    const t = await createTenant(platform);
    const role = await call(platform, "/roles", {
      method: "POST",
      key: t.key,
      body: { name: "Careful specialist", level: 5, systemPrompt: "Ask before escalating.", tools: ["escalate"], approvalRequired: ["escalate"] },
    });
    expect(role.status).toBe(201);
    expect(role.body.approvalRequired).toEqual(["escalate"]);
    const boss = await agent(t, "Boss", "ceo");
    const worker = await agent(t, "Wes", role.body.id, boss);
    const seen: unknown[] = [];
    model.script({ toolCalls: [{ name: "escalate", arguments: { summary: "The vendor contract expires tomorrow" } }] });
    model.respond((request) => {
      seen.push(lastToolResult(request));
      return "Waiting for approval.";
    });

    await chat(t, worker, "Tell the boss about the contract.");
    expect(seen[0]).toMatchObject({ status: "pending_approval" });
    expect(await inbox(t, boss)).toEqual([]);

    const approved = await call(platform, `/approvals/${(seen[0] as { approvalId: string }).approvalId}/approve`, { method: "POST", key: t.key, body: {} });

    expect(approved.body).toMatchObject({ status: "approved", outcome: { ok: true } });
    const escalations = await inbox(t, boss);
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ kind: "escalate", from: worker, body: "The vendor contract expires tomorrow" });
  });

  it("answers bad input with problem+json: a rejection without a reason, an unknown status, a malformed rule", async () => {
    const t = await createTenant(platform);
    const { seen } = await heldSchedule(t);
    const approvalId = (seen[0] as { approvalId: string }).approvalId;

    const noReason = await call(platform, `/approvals/${approvalId}/reject`, { method: "POST", key: t.key, body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.headers.get("content-type")).toContain("application/problem+json");
    expect((await call(platform, "/approvals?status=maybe", { key: t.key })).status).toBe(400);
    const badRule = await call(platform, "/roles", { method: "POST", key: t.key, body: { name: "X", level: 5, systemPrompt: "x", approvalRequired: ["drop_tables"] } });
    expect(badRule.status).toBe(400);
    expect((await call(platform, "/approvals/01jzzzzzzzzzzzzzzzzzzzzzzz", { key: t.key })).status).toBe(404);
  });
});
