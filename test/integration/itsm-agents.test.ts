import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeChatRequest, type FakeOpenAI } from "../support/fake-openai";
import { streams } from "../../functions/routes";
import { workDispatcher } from "../../functions/manifest/work";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

let platform: Platform;
let model: FakeOpenAI;

beforeAll(async () => {
  model = await startFakeOpenAI();
  // Without the work queue's dispatcher: the escalations these chats send would otherwise become tasks
  // whose turns call the same scripted model and take its replies (the queue has its own tests).
  platform = await startTestPlatform({
    consumers: streams.filter((c) => c.name !== workDispatcher.name),
    env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" },
  });
});
afterAll(async () => {
  await platform?.stop();
  await model?.close();
});
beforeEach(() => model.reset());

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function team(t: Tenant, roleId: string) {
  const manager = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "Ops Director", roleId: "ceo" } });
  const agent = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "ITSM agent", roleId, managerId: manager.body.id } });
  return { manager: manager.body.id as string, agent: agent.body.id as string };
}

async function chat(t: Tenant, agentId: string, message: string) {
  const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
  const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
  socket.send({ action: "chat", agentId, message });
  const done = await socket.next("chat.done", 20_000);
  socket.close();
  return done;
}

/** The model's view of the last tool result, parsed. */
const lastToolResult = (request: FakeChatRequest) => JSON.parse(String((request.messages.at(-1) as { content: string }).content));
const toolNames = (request: FakeChatRequest) => ((request.body.tools as { function: { name: string } }[] | undefined) ?? []).map((t) => t.function.name);

describe("ITSM agents work tickets through their tools", () => {
  it("Incident Manager: 'the payroll service is down for everyone' ends with a P1 incident and the manager notified", async () => {
    const t = await createTenant(platform);
    const { manager, agent } = await team(t, "incident-manager");
    const seen: string[][] = [];
    model.script(
      { toolCalls: [{ name: "search_tickets", arguments: { query: "payroll", known_error: true } }] },
      { toolCalls: [{ name: "create_ticket", arguments: { type: "incident", title: "Payroll service down for everyone", category: "software", affected_service: "payroll", impact: 1, urgency: 1, caller: "employee" } }] },
    );
    model.respond((request) => {
      seen.push(toolNames(request));
      const last = lastToolResult(request);
      if (last.number) return { toolCalls: [{ name: "escalate", arguments: { summary: `Critical incident ${last.number}: payroll down for everyone` } }] };
      return `Incident logged as priority 1 and escalated (${last.messageId ? "manager notified" : "?"}).`;
    });

    const done = await chat(t, agent, "The payroll service is down for everyone!");
    const incidents = await call(platform, "/tickets?type=incident", { key: t.key });
    const inbox = await call(platform, `/agents/${manager}/messages`, { key: t.key });

    expect(incidents.body.items).toHaveLength(1);
    const incident = incidents.body.items[0];
    expect(incident).toMatchObject({ priority: 1, affectedService: "payroll", state: "new" });
    // The agent is named, next to its id, without a lookup on read.
    expect(incident).toMatchObject({ createdBy: `agent:${agent}`, createdByName: "ITSM agent", caller: { kind: "person", name: "employee" }, callerName: "employee" });
    expect(incident.number).toMatch(/^INC\d{7}$/);
    expect(inbox.body.items[0]).toMatchObject({ kind: "escalate", from: agent, to: manager });
    expect(inbox.body.items[0].body).toContain(incident.number);
    expect(done.reply).toContain("manager notified");
    expect(done.steps).toBe(4);
    expect(seen[0]).toEqual(expect.arrayContaining(["create_ticket", "search_tickets", "escalate"]));
  });

  it("Change Manager: routes a normal change to authorization; its attempt to schedule waits for a person's approval", async () => {
    const t = await createTenant(platform);
    const { agent } = await team(t, "change-manager");
    const change = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "change", title: "Upgrade the database", changeType: "normal", risk: "high" } });
    const results: unknown[] = [];
    model.script(
      { toolCalls: [{ name: "transition_ticket", arguments: { ticket: change.body.number, to: "scheduled" } }] },
      { toolCalls: [{ name: "transition_ticket", arguments: { ticket: change.body.number, to: "assess" } }] },
      { toolCalls: [{ name: "transition_ticket", arguments: { ticket: change.body.number, to: "authorize" } }] },
    );
    model.respond((request) => {
      results.push(lastToolResult(request));
      return "The change is awaiting authorization; it cannot be scheduled before that.";
    });

    await chat(t, agent, `Schedule ${change.body.number} for tonight.`);
    const after = await call(platform, `/tickets/${change.body.id}`, { key: t.key });

    expect(after.body.state).toBe("authorize");
    const history = after.body.history.map((h: { action: string }) => h.action);
    expect(history.filter((a: string) => a === "transitioned")).toHaveLength(2);
    // Scheduling is held for approval (the change manager's approvalRequired): the model saw it pending.
    const firstAttempt = model.requests[1]!.body as { messages: { role: string; content: string }[] };
    expect(JSON.parse(firstAttempt.messages.at(-1)!.content)).toMatchObject({ status: "pending_approval", approvalId: expect.any(String) });
  });

  it("Problem Manager: groups related incidents under a problem and records the known error", async () => {
    const t = await createTenant(platform);
    const { agent } = await team(t, "problem-manager");
    const a = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title: "VPN drops", impact: 2, urgency: 2 } });
    const b = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title: "VPN drops again", impact: 2, urgency: 2 } });
    let problem = "";
    model.script({ toolCalls: [{ name: "create_ticket", arguments: { type: "problem", title: "Recurring VPN drops", root_cause: "expired certificate on gateway", workaround: "reconnect with the backup profile" } }] });
    model.respond((request) => {
      const last = lastToolResult(request);
      if (last.number?.startsWith("PRB")) {
        problem = last.number;
        return { toolCalls: [{ name: "link_tickets", arguments: { ticket: problem, related: a.body.number } }, { name: "link_tickets", arguments: { ticket: problem, related: b.body.number } }, { name: "update_ticket", arguments: { ticket: problem, known_error: true } }] };
      }
      return "Grouped under a problem and recorded as a known error.";
    });

    await chat(t, agent, "These VPN incidents keep happening.");
    const found = await call(platform, `/tickets/${problem}`, { key: t.key });

    expect(found.body).toMatchObject({ type: "problem", knownError: true, rootCause: "expired certificate on gateway" });
    expect(found.body.links.map((l: { number?: string; ticket?: string }) => l.number ?? l.ticket).join(" ")).toContain(a.body.number);
    expect(JSON.stringify(found.body.links)).toContain(b.body.number);
  });

  it("Service Request Agent: fulfils a request and closes it", async () => {
    const t = await createTenant(platform);
    const { agent } = await team(t, "service-request-agent");
    const request = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "service_request", title: "New laptop for Ana" } });
    const steps = ["approved", "fulfilling", "closed"];
    model.respond((req) => {
      const next = steps.shift();
      if (next) return { toolCalls: [{ name: "transition_ticket", arguments: { ticket: request.body.number, to: next } }] };
      return "Done: the laptop request is fulfilled and closed.";
    });

    await chat(t, agent, `Please handle ${request.body.number}.`);
    const after = await call(platform, `/tickets/${request.body.id}`, { key: t.key });

    expect(after.body.state).toBe("closed");
  });

  it("offers each role only its own tools", async () => {
    const t = await createTenant(platform);
    const { agent } = await team(t, "specialist");
    model.script("ok");

    await chat(t, agent, "hello");

    const offered = ((model.requests[0]!.body as { tools?: { function: { name: string } }[] }).tools ?? []).map((x) => x.function.name);
    expect(offered.sort()).toEqual(["escalate", "send_message"]);
  });
});
