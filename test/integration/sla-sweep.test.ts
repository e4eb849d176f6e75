import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTicketStore } from "../../core/db/ticket.repository";
import { createAgentRepositories } from "../../core/db/agent.repository";
import { createOrganizationStore } from "../../core/db/organization.repository";
import { createTicketSettingsStore } from "../../core/db/ticket.repository";
import { noEvents } from "../../core/realtime/events";
import { type SlaSweepReport, sweepSlas } from "../../core/tickets/sla-sweep";
import { CreateTicketBody } from "../../core/tickets/ticket.schema";
import type { TicketActor } from "../../core/tickets/ports";
import { slaSweep } from "../../functions/manifest/tickets";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { bodyFor, manualClock, person, ticketServiceFor } from "../support/tickets";

/**
 * The scheduled SLA sweep on the real platform: run by the local scheduler as its EventBridge Rule
 * runs it in AWS (under the permission guard, with its declared permissions), against DynamoDB Local.
 * Tickets are created in the past by a ticket service whose clock the test sets (no waiting); the
 * sweep runs at the real time. Nothing reads the tickets before the sweep: it alone notices.
 */
let platform: Platform;
let harness: ReturnType<typeof ticketServiceFor>;
let clock: ReturnType<typeof manualClock>;
type Tenant = Awaited<ReturnType<typeof createTenant>>;
let staffed: Tenant;
let unstaffed: Tenant;
let neverClose: Tenant;
const agents = {} as Record<"ceo" | "lead" | "im", { id: string }>;
const made = {} as Record<"old" | "oldKept" | "young" | "assigned" | "unassigned" | "nobody" | "atRisk", { id: string; number: string }>;
let first: SlaSweepReport;
let second: SlaSweepReport;

const runSweep = () => platform.scheduler.run(slaSweep.name) as Promise<SlaSweepReport>;
const MINUTE = 60_000;

async function agent(t: Tenant, name: string, roleId: string, managerId: string | null = null) {
  const result = await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } });
  if (result.status !== 201) throw new Error(`create ${name}: ${result.status} ${result.text}`);
  return result.body as { id: string };
}

const open = (by: TicketActor, extra: Record<string, unknown>) => harness.service.create(by, CreateTicketBody.parse({ type: "incident", title: "Mail is down", ...extra }));

async function resolve(by: TicketActor, id: string) {
  await harness.service.transition(by, id, bodyFor("incident", "new", "in_progress"));
  await harness.service.transition(by, id, bodyFor("incident", "in_progress", "resolved"));
}

/** The ticket as stored (the store, not the service: a service read would announce breaches itself). */
const stored = (orgId: string, id: string) => createTicketStore({ client: harness.client, table: platform.tableName }).get(orgId, id);
const inbox = async (t: Tenant, agentId: string) => (await call(platform, `/agents/${agentId}/messages`, { key: t.key })).body.items as Record<string, unknown>[];

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [] });
  [staffed, unstaffed, neverClose] = await Promise.all([createTenant(platform, { tier: "basic" }), createTenant(platform, { tier: "basic" }), createTenant(platform, { tier: "basic" })]);
  agents.ceo = await agent(staffed, "Ada", "ceo");
  agents.lead = await agent(staffed, "Lee", "team-lead", agents.ceo.id);
  agents.im = await agent(staffed, "Ines", "incident-manager", agents.lead.id);
  expect((await call(platform, "/ticket-settings", { method: "PUT", key: neverClose.key, body: { autoCloseDays: 0 } })).status).toBe(200);

  const now = Date.now();
  clock = manualClock(new Date(now - 10 * 24 * 60 * MINUTE));
  harness = ticketServiceFor(platform, { clock, agents: [{ id: agents.im.id, roleId: "incident-manager", level: 5 }] });
  const [s, u, n] = [person(staffed.org.id), person(unstaffed.org.id), person(neverClose.org.id)];

  // Ten days ago: opened; nine days ago: resolved (basic tier, default 7 days to auto-close).
  made.old = await open(s, {});
  made.oldKept = await open(n, {});
  clock.advanceMinutes(24 * 60);
  await resolve(s, made.old.id);
  await resolve(n, made.oldKept.id);
  // A day ago: resolved, still young.
  clock.advanceMinutes(8 * 24 * 60 - 5);
  made.young = await open(s, {});
  await resolve(s, made.young.id);
  // 90 minutes ago: P1 incidents (basic: respond within 60 minutes, resolve within 8 hours), never picked up.
  clock.advanceMinutes(24 * 60 + 5 - 90);
  made.assigned = await open(s, { impact: 1, urgency: 1, assignedTo: agents.im.id });
  made.unassigned = await open(s, { impact: 1, urgency: 1 });
  made.nobody = await open(u, { impact: 1, urgency: 1 });
  // 50 minutes ago: a P1 past 75% of its response target, not yet breached.
  clock.advanceMinutes(40);
  made.atRisk = await open(s, { impact: 1, urgency: 1 });

  first = await runSweep();
  second = await runSweep();
});
afterAll(async () => {
  harness?.close();
  await platform?.stop();
});

describe("the SLA sweep", () => {
  it("marks a breach nobody read and escalates it to the assignee's manager, once", async () => {
    const ticket = await stored(staffed.org.id, made.assigned.id);
    const messages = (await inbox(staffed, agents.lead.id)).filter((m) => String(m.subject).includes(made.assigned.number));

    expect(ticket?.breachAnnounced).toEqual(expect.arrayContaining(["response", "escalated:response"]));
    expect(ticket?.breachAnnounced).not.toContain("resolution");
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: "escalate", from: agents.im.id, to: agents.lead.id, subject: `SLA breached: ${made.assigned.number} (response)`, status: "queued", sentBy: "system" });
    expect(first.breached).toBeGreaterThanOrEqual(3);
    expect(first.escalated).toBeGreaterThanOrEqual(2);
  });

  it("escalates an unassigned breach to the organization's incident manager, and to nobody where there is none", async () => {
    const messages = (await inbox(staffed, agents.im.id)).filter((m) => String(m.subject).includes(made.unassigned.number));
    const nobody = await stored(unstaffed.org.id, made.nobody.id);

    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ kind: "escalate", from: "system", to: agents.im.id });
    expect(nobody?.breachAnnounced).toEqual(["escalated:response", "response"]);
    expect(first.escalatedToNobody).toBeGreaterThanOrEqual(1);
  });

  it("marks a clock past 75% of its target at risk, without a breach", async () => {
    const ticket = await stored(staffed.org.id, made.atRisk.id);
    expect(ticket?.breachAnnounced).toEqual(["at_risk:response"]);
    expect(first.atRisk).toBeGreaterThanOrEqual(1);
  });

  it("changes nothing on a second run", async () => {
    expect(first.complete).toBe(true);
    expect(second).toMatchObject({ breached: 0, atRisk: 0, escalated: 0, escalatedToNobody: 0, closed: 0, failed: 0, complete: true });
    expect(second.tickets).toBe(first.tickets - first.closed);
  });

  it("closes an incident resolved longer than autoCloseDays as the system, through the workflow, and leaves a young one resolved", async () => {
    const old = await harness.service.get(person(staffed.org.id), made.old.id);
    const young = await stored(staffed.org.id, made.young.id);

    expect(old).toMatchObject({ state: "closed", updatedBy: "system", updatedByName: "System" });
    expect(old.closedAt).not.toBeNull();
    expect(old.history.at(-1)).toMatchObject({
      action: "transitioned",
      actor: "system",
      changes: [{ field: "state", from: "resolved", to: "closed" }],
      note: "Closed automatically after 7 days resolved.",
    });
    expect(young?.state).toBe("resolved");
    expect(first.closed).toBe(1);
  });

  it("never closes automatically in an organization whose autoCloseDays is 0", async () => {
    expect((await stored(neverClose.org.id, made.oldKept.id))?.state).toBe("resolved");
  });

  it("is bounded: it stops at its ticket bound, and takes no work within its margin of the invocation's end", async () => {
    const repo = { client: harness.client, table: platform.tableName };
    const { agents: agentStore, messages } = createAgentRepositories(repo);
    const deps = {
      orgs: createOrganizationStore(repo),
      tickets: createTicketStore(repo),
      settings: createTicketSettingsStore(repo),
      agents: agentStore,
      messages,
      events: noEvents,
      closeResolved: harness.service.closeResolved,
    };

    const oneTicket = await sweepSlas({ ...deps, maxTickets: 1 });
    const outOfTime = await sweepSlas({ ...deps, remainingMs: () => 4_000, marginMs: 5_000 });

    expect(oneTicket).toMatchObject({ tickets: 1, complete: false });
    expect(outOfTime).toMatchObject({ pages: 0, tickets: 0, complete: false });
  });
});
