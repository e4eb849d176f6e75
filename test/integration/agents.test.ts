import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { eventually } from "../support/work";

let platform: Platform;
let model: FakeOpenAI;

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
});
afterAll(async () => {
  await platform?.stop();
  await model?.close();
});
beforeEach(() => model.reset());

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function agent(t: Tenant, name: string, roleId: string, managerId: string | null = null) {
  const result = await call(t.org ? platform : platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } });
  if (result.status !== 201) throw new Error(`create ${name}: ${result.status} ${result.text}`);
  return result.body as { id: string; level: number; managerId: string | null };
}

/** CEO -> senior manager -> manager -> team lead -> specialist, plus a second branch for peer tests. */
async function chain(t: Tenant) {
  const ceo = await agent(t, "Ada (CEO)", "ceo");
  const svp = await agent(t, "Sam (SVP)", "senior-manager", ceo.id);
  const mgr = await agent(t, "Mia (Manager)", "manager", svp.id);
  const lead = await agent(t, "Lee (Lead)", "team-lead", mgr.id);
  const spec = await agent(t, "Sol (Specialist)", "specialist", lead.id);
  const spec2 = await agent(t, "Sky (Specialist)", "specialist", lead.id);
  const svp2 = await agent(t, "Vic (SVP)", "senior-manager", ceo.id);
  return { ceo, svp, mgr, lead, spec, spec2, svp2 };
}

const send = (t: Tenant, from: string, body: Record<string, unknown>) => call(platform, `/agents/${from}/messages`, { method: "POST", key: t.key, body });

describe("roles", () => {
  it("lists the built-in roles with their levels and keeps them undeletable", async () => {
    const t = await createTenant(platform);

    const roles = await call(platform, "/roles", { key: t.key });
    const del = await call(platform, "/roles/ceo", { method: "DELETE", key: t.key });

    const levels = Object.fromEntries(roles.body.items.map((r: { id: string; level: number }) => [r.id, r.level]));
    expect(levels).toMatchObject({ ceo: 1, "senior-manager": 2, manager: 3, "team-lead": 4, specialist: 5, "incident-manager": 5, "change-manager": 5, "problem-manager": 5, "service-request-agent": 5 });
    expect(del.status).toBe(409);
    expect(del.body.code).toBe("built_in_role");
  });

  it("creates, changes and deletes a custom role, refusing to delete one in use", async () => {
    const t = await createTenant(platform);
    const ceo = await agent(t, "Boss", "ceo");

    const created = await call(platform, "/roles", { method: "POST", key: t.key, body: { name: "Analyst", level: 5, systemPrompt: "Analyse.", tools: ["escalate"] } });
    const patched = await call(platform, `/roles/${created.body.id}`, { method: "PATCH", key: t.key, body: { description: "Numbers" } });
    const holder = await agent(t, "Ana", created.body.id, ceo.id);
    const inUse = await call(platform, `/roles/${created.body.id}`, { method: "DELETE", key: t.key });
    await call(platform, `/agents/${holder.id}`, { method: "DELETE", key: t.key });
    const deleted = await call(platform, `/roles/${created.body.id}`, { method: "DELETE", key: t.key });
    const gone = await call(platform, `/roles/${created.body.id}`, { key: t.key });

    expect(created.status).toBe(201);
    expect(patched.body.description).toBe("Numbers");
    expect(holder.level).toBe(5);
    expect(inUse.status).toBe(409);
    expect(deleted.status).toBe(204);
    expect(gone.status).toBe(404);
  });

  it("rejects an unknown tool naming the field", async () => {
    const t = await createTenant(platform);

    const result = await call(platform, "/roles", { method: "POST", key: t.key, body: { name: "X", level: 5, systemPrompt: "x", tools: ["rm_rf"] } });

    expect(result.status).toBe(400);
    expect(result.body.errors[0].field).toBe("tools.0");
  });
});

describe("agents and the hierarchy", () => {
  it("builds a five-level chain and returns it as a tree", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);

    const tree = await call(platform, "/hierarchy", { key: t.key });

    expect(tree.body.agents).toBe(7);
    const root = tree.body.roots[0];
    expect(root).toMatchObject({ id: c.ceo.id, level: 1, levelName: "CEO", roleName: "CEO" });
    const path = [root, root.reports.find((r: { id: string }) => r.id === c.svp.id)];
    let node = path[1];
    for (const next of [c.mgr, c.lead, c.spec]) {
      node = node.reports.find((r: { id: string }) => r.id === next.id);
      expect(node).toBeDefined();
    }
    expect(node.levelName).toBe("Specialist");
  });

  it("refuses a manager of the same or a lower level, a second root, and a missing manager", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);

    const sameLevel = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "X", roleId: "specialist", managerId: c.spec.id } });
    const secondRoot = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "Y", roleId: "ceo" } });
    const noManager = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "Z", roleId: "manager" } });
    const unknownManager = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "W", roleId: "manager", managerId: "01jzzzzzzzzzzzzzzzzzzzzzzz" } });
    const unknownRole = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "V", roleId: "wizard", managerId: c.ceo.id } });

    expect(sameLevel.status).toBe(409);
    expect(sameLevel.body.code).toBe("manager_level_invalid");
    expect(secondRoot.body.code).toBe("root_exists");
    expect(noManager.body.code).toBe("manager_required");
    expect(unknownManager.status).toBe(404);
    expect(unknownRole.status).toBe(404);
  });

  it("prevents cycles: an agent cannot move under itself or its own report", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    const custom = await call(platform, "/roles", { method: "POST", key: t.key, body: { name: "Deputy", level: 2, systemPrompt: "x" } });

    const underSelf = await call(platform, `/agents/${c.svp.id}`, { method: "PATCH", key: t.key, body: { managerId: c.svp.id } });
    const underReport = await call(platform, `/agents/${c.svp.id}`, { method: "PATCH", key: t.key, body: { roleId: custom.body.id, managerId: c.mgr.id, reassignReportsTo: "self" } });

    expect(underSelf.status).toBe(409);
    expect(underSelf.body.code).toBe("hierarchy_cycle");
    expect(underReport.status).toBe(409);
    expect(["hierarchy_cycle", "manager_level_invalid"]).toContain(underReport.body.code);
  });

  it("requires saying where reports go when moving or deleting an agent with reports", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);

    const move = await call(platform, `/agents/${c.mgr.id}`, { method: "PATCH", key: t.key, body: { managerId: c.svp2.id } });
    const moveWithThem = await call(platform, `/agents/${c.mgr.id}`, { method: "PATCH", key: t.key, body: { managerId: c.svp2.id, reassignReportsTo: "self" } });
    const del = await call(platform, `/agents/${c.lead.id}`, { method: "DELETE", key: t.key });
    const delToMgr = await call(platform, `/agents/${c.lead.id}?reassignReportsTo=${c.mgr.id}`, { method: "DELETE", key: t.key });
    const spec = await call(platform, `/agents/${c.spec.id}`, { key: t.key });

    expect(move.status).toBe(409);
    expect(move.body.code).toBe("reports_need_reassignment");
    expect(moveWithThem.status).toBe(200);
    expect(moveWithThem.body.managerId).toBe(c.svp2.id);
    expect(del.status).toBe(409);
    expect(delToMgr.status).toBe(204);
    expect(spec.body.managerId).toBe(c.mgr.id);
  });

  it("never exceeds the agent quota under concurrency", async () => {
    const t = await createTenant(platform, { tier: "basic" });
    const ceo = await agent(t, "CEO", "ceo");

    const results = await Promise.all(Array.from({ length: 25 }, (_, i) => call(platform, "/agents", { method: "POST", key: t.key, body: { name: `A${i}`, roleId: "specialist", managerId: ceo.id } })));
    const usage = await call(platform, `/organizations/${t.org.id}/usage`, { key: t.key });

    expect(results.filter((r) => r.status === 201)).toHaveLength(9);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(16);
    expect(refused[0]!.body.code).toBe("agent_quota_exceeded");
    expect(usage.body.agents).toEqual({ used: 10, limit: 10 });
  });

  it("gives a quota slot back when an agent is deleted", async () => {
    const t = await createTenant(platform);
    const ceo = await agent(t, "CEO", "ceo");
    const a = await agent(t, "A", "specialist", ceo.id);

    await call(platform, `/agents/${a.id}`, { method: "DELETE", key: t.key });
    const usage = await call(platform, `/organizations/${t.org.id}/usage`, { key: t.key });

    expect(usage.body.agents.used).toBe(1);
  });
});

describe("messaging along the hierarchy", () => {
  let t: Tenant;
  let c: Awaited<ReturnType<typeof chain>>;
  beforeAll(async () => {
    t = await createTenant(platform);
    c = await chain(t);
  });

  it("sends direct messages to the manager, reports and peers in one hop", async () => {
    const up = await send(t, c.spec.id, { kind: "direct", to: c.lead.id, body: "done" });
    const peer = await send(t, c.spec.id, { kind: "direct", to: c.spec2.id, body: "hi" });
    const down = await send(t, c.lead.id, { kind: "direct", to: c.spec.id, body: "thanks" });

    expect(up.body.items[0].path).toEqual([c.spec.id, c.lead.id]);
    expect(peer.body.items[0].path).toEqual([c.spec.id, c.spec2.id]);
    expect(down.body.items[0].path).toEqual([c.lead.id, c.spec.id]);
  });

  it("routes a direct message to anyone else through the lowest common manager, recording every hop", async () => {
    const result = await send(t, c.spec.id, { kind: "direct", to: c.svp2.id, body: "cross-team" });

    expect(result.status).toBe(201);
    expect(result.body.items[0].path).toEqual([c.spec.id, c.lead.id, c.mgr.id, c.svp.id, c.ceo.id, c.svp2.id]);
  });

  it("delegates only inside the sender's subtree", async () => {
    const ok = await send(t, c.svp.id, { kind: "delegate", to: c.spec.id, body: "write the report" });
    const outside = await send(t, c.svp.id, { kind: "delegate", to: c.svp2.id, body: "do my job" });
    const upward = await send(t, c.lead.id, { kind: "delegate", to: c.mgr.id, body: "you do it" });

    expect(ok.status).toBe(201);
    expect(ok.body.items[0].path).toEqual([c.svp.id, c.mgr.id, c.lead.id, c.spec.id]);
    expect(outside.status).toBe(403);
    expect(outside.body).toMatchObject({ code: "delegate_outside_subtree", rule: "delegate_outside_subtree" });
    expect(upward.status).toBe(403);
  });

  it("escalates only to the manager, and the root cannot escalate", async () => {
    const ok = await send(t, c.spec.id, { kind: "escalate", body: "blocked" });
    const skip = await send(t, c.spec.id, { kind: "escalate", to: c.ceo.id, body: "straight to the top" });
    const root = await send(t, c.ceo.id, { kind: "escalate", body: "board?" });

    expect(ok.body.items[0].to).toBe(c.lead.id);
    expect(skip.status).toBe(403);
    expect(skip.body.code).toBe("escalate_not_to_manager");
    expect(root.body.code).toBe("escalate_from_root");
  });

  it("broadcasts to the whole subtree and refuses a broadcast without reports", async () => {
    const ok = await send(t, c.mgr.id, { kind: "broadcast", body: "all hands" });
    const none = await send(t, c.spec.id, { kind: "broadcast", body: "anyone?" });

    expect(ok.body.items.map((m: { to: string }) => m.to).sort()).toEqual([c.lead.id, c.spec.id, c.spec2.id].sort());
    expect(none.status).toBe(403);
    expect(none.body.code).toBe("broadcast_without_reports");
  });

  it("refuses a message to oneself, an empty message and an unknown recipient", async () => {
    const self = await send(t, c.spec.id, { kind: "direct", to: c.spec.id, body: "me" });
    const empty = await send(t, c.spec.id, { kind: "direct", to: c.lead.id, body: "   " });
    const unknown = await send(t, c.spec.id, { kind: "direct", to: "01jzzzzzzzzzzzzzzzzzzzzzzz", body: "?" });

    expect(self.status).toBe(400);
    expect(self.body.code).toBe("message_to_self");
    expect(empty.status).toBe(400);
    expect(unknown.status).toBe(404);
  });

  it("keeps messages in inboxes with a status and counts queued ones in the tree", async () => {
    const fresh = await createTenant(platform);
    const boss = await agent(fresh, "Boss", "ceo");
    const worker = await agent(fresh, "Worker", "specialist", boss.id);
    // Broadcasts: plain messages nobody works by themselves (a direct message would be a task).
    await send(fresh, boss.id, { kind: "broadcast", body: "one" });
    const second = await send(fresh, boss.id, { kind: "broadcast", body: "two" });

    const before = await call(platform, "/hierarchy", { key: fresh.key });
    const read = await call(platform, `/agents/${worker.id}/messages/${second.body.items[0].id}`, { method: "PATCH", key: fresh.key, body: { status: "read" } });
    const after = await call(platform, "/hierarchy", { key: fresh.key });
    const inbox = await call(platform, `/agents/${worker.id}/messages`, { key: fresh.key });

    expect(before.body.roots[0].reports[0].queuedMessages).toBe(2);
    expect(read.body.status).toBe("read");
    expect(after.body.roots[0].reports[0].queuedMessages).toBe(1);
    expect(inbox.body.items.map((m: { body: string; status: string }) => [m.body, m.status])).toEqual([["two", "read"], ["one", "queued"]]);
  });
});

describe("agent runtime", () => {
  it("answers a chat that delegates at once; the delegation chain works on the queue and its report reaches the CEO's inbox", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    const levelOf = (system: string) => /\(level (\d)\)\./.exec(system)?.[1];
    // Each manager delegates to its first report; the specialist answers; each report resumes its
    // delegator's task, which reports what it got. Scripted by the agent's level.
    const targets: Record<string, string> = { "1": c.svp.id, "2": c.mgr.id, "3": c.lead.id, "4": c.spec.id };
    model.respond((request) => {
      const system = String((request.messages[0] as { content: string }).content);
      const level = levelOf(system)!;
      const lastMessage = request.messages.at(-1) as { role: string; content: string };
      if (lastMessage.role === "tool") return `level ${level} delegated: ${JSON.parse(lastMessage.content).status}`;
      if (lastMessage.content.startsWith("Report from")) return `level ${level} reports: ${lastMessage.content.split("\n").slice(1, -1).join("\n")}`;
      if (level === "5") return "the analysis is done";
      return { toolCalls: [{ name: "delegate_task", arguments: { to: targets[level], task: `task from level ${level}` } }] };
    });

    const { TestSocket } = await import("../support/ws-client");
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
    const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
    socket.send({ action: "chat", agentId: c.ceo.id, message: "Prepare the quarterly analysis", id: "q1" });
    const done = await socket.next("chat.done", 20_000);
    socket.close();

    // The chat turn does not wait for the chain: the delegation is queued.
    expect(done.reply).toBe("level 1 delegated: queued");
    expect(done.steps).toBe(2);
    const report = await eventually(
      async () => (await call(platform, `/agents/${c.ceo.id}/messages`, { key: t.key })).body.items.find((m: { kind: string }) => m.kind === "report"),
      (m) => m !== undefined,
      "the report to the CEO",
    );
    expect(report).toMatchObject({ from: c.svp.id, reportStatus: "done", body: "level 2 reports: level 3 reports: level 4 reports: the analysis is done" });
    const specInbox = await call(platform, `/agents/${c.spec.id}/messages`, { key: t.key });
    expect(specInbox.body.items[0]).toMatchObject({ kind: "delegate", from: c.lead.id, body: "task from level 4", status: "done" });
  });

  it("returns a hierarchy refusal to the model as the tool result, and the model can recover", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    let calls = 0;
    model.respond((request) => {
      calls++;
      const last = request.messages.at(-1) as { role: string; content: string };
      if (last.role === "tool") return `tool said: ${JSON.parse(last.content).error.code}`;
      return { toolCalls: [{ name: "delegate_task", arguments: { to: c.svp2.id, task: "not yours" } }] };
    });
    const { TestSocket } = await import("../support/ws-client");
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
    const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);

    socket.send({ action: "chat", agentId: c.svp.id, message: "delegate to Vic" });
    const done = await socket.next("chat.done", 10_000);
    socket.close();

    expect(done.reply).toBe("tool said: delegate_outside_subtree");
    expect(calls).toBe(2);
  });

  it("keeps memory across turns in the prompt", async () => {
    const t = await createTenant(platform);
    const ceo = await agent(t, "Ada", "ceo");
    const { TestSocket } = await import("../support/ws-client");
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
    const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);

    socket.send({ action: "chat", agentId: ceo.id, message: "My name is Grace." });
    await socket.next("chat.done");
    socket.send({ action: "chat", agentId: ceo.id, message: "What is my name?" });
    await socket.next("chat.done");
    socket.close();

    const second = model.requests.at(-1)!.body as { messages: { role: string; content: string }[] };
    expect(second.messages.map((m) => m.content)).toContain("My name is Grace.");
    expect(second.messages.at(-1)!.content).toBe("What is my name?");
  });

  it("bounds the tool loop", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    model.respond(() => ({ toolCalls: [{ name: "send_message", arguments: { to: c.spec.id, body: "again" } }] }));
    const { TestSocket } = await import("../support/ws-client");
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
    const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);

    socket.send({ action: "chat", agentId: c.lead.id, message: "loop forever" });
    const done = await socket.next("chat.done", 15_000);
    socket.close();

    expect(done.steps).toBe(6);
    expect(done.reply).toMatch(/stopped after 6 steps/);
  });
});
