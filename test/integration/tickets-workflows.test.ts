import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DomainError } from "../../core/errors";
import { allowedTransitions, statesOf, workflowOf, type Workflow } from "../../core/tickets/state-machines";
import { CreateTicketBody, TICKET_STATES, type ChangeType, type TicketState, type TicketType } from "../../core/tickets/ticket.schema";
import type { TicketService } from "../../core/tickets/ticket-service";
import type { TicketActor } from "../../core/tickets/ports";
import type { Platform } from "../../local/platform";
import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../../core/db/keys";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { agent, bodyFor, manualClock, pathTo, person, ticketServiceFor } from "../support/tickets";

/**
 * The ticket service itself (the same code the HTTP handlers call) against DynamoDB Local, with a
 * clock the test moves: workflows edge by edge, SLA pause and breach, breach announcements, change
 * authority, and concurrent writers.
 */
let platform: Platform;
let harness: ReturnType<typeof ticketServiceFor>;
let tickets: TicketService;
let clock: ReturnType<typeof manualClock>;
let orgId: string;
let actor: TicketActor;

const CHANGE_MANAGER = "01jchangemanager0000000000";
const SPECIALIST = "01jspecxa5t000000000000000";
const DIRECTOR = "01jdrectr00000000000000000";

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [] });
  orgId = (await createTenant(platform, { tier: "enterprise" })).org.id;
  clock = manualClock(new Date("2026-03-02T08:00:00.000Z"));
  harness = ticketServiceFor(platform, {
    clock,
    agents: [
      { id: CHANGE_MANAGER, roleId: "change-manager", level: 5 },
      { id: SPECIALIST, roleId: "incident-manager", level: 5 },
      { id: DIRECTOR, roleId: "senior-manager", level: 2 },
    ],
  });
  tickets = harness.service;
  actor = person(orgId);
});
afterAll(async () => {
  harness?.close();
  await platform?.stop();
});

const open = (type: TicketType, extra: Record<string, unknown> = {}, by = actor) =>
  tickets.create(by, CreateTicketBody.parse({ type, title: `A ${type}`, ...extra }));

/** Creates a ticket of the workflow and walks it to `state`. */
async function ticketIn(workflow: Workflow, state: TicketState) {
  const [type, changeType] = workflow.split(":") as [TicketType, ChangeType | undefined];
  const ticket = await open(type, changeType ? { changeType } : {});
  let from: TicketState = "new";
  for (const to of pathTo(workflow, state)) {
    await tickets.transition(actor, ticket.id, bodyFor(workflow, from, to));
    from = to;
  }
  return ticket;
}

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    return error as DomainError;
  }
  throw new Error("expected the operation to fail");
}

const WORKFLOWS: Workflow[] = ["incident", "service_request", "problem", "change:normal", "change:standard", "change:emergency"];
const edges = WORKFLOWS.flatMap((workflow) =>
  statesOf(workflow).flatMap((from) => allowedTransitions(workflow, from).map((to) => [workflow, from, to] as const)),
);

describe("workflows against DynamoDB Local", () => {
  // Each edge on its own ticket, concurrently: the tickets are independent.
  it.concurrent.for(edges)("%s: %s -> %s is allowed and recorded", async ([workflow, from, to], { expect }) => {
    const ticket = await ticketIn(workflow, from);

    const moved = await tickets.transition(actor, ticket.id, bodyFor(workflow, from, to));
    const read = await tickets.get(actor, ticket.number);

    expect(moved.state).toBe(to);
    expect(read.state).toBe(to);
    expect(read.history.at(-1)?.changes[0]).toEqual({ field: "state", from, to });
    expect(read.version).toBe(read.history.length);
  });

  const refusedSamples: [Workflow, TicketState, TicketState][] = [
    ["incident", "new", "resolved"],
    ["incident", "on_hold", "closed"],
    ["incident", "closed", "in_progress"],
    ["incident", "canceled", "new"],
    ["service_request", "new", "fulfilling"],
    ["service_request", "rejected", "approved"],
    ["problem", "assess", "fix_in_progress"],
    ["problem", "resolved", "fix_in_progress"],
    ["change:normal", "new", "scheduled"],
    ["change:normal", "implement", "canceled"],
    ["change:normal", "assess", "implement"],
    ["change:standard", "new", "authorize"],
    ["change:emergency", "new", "assess"],
    ["change:emergency", "review", "canceled"],
  ];

  it.concurrent.for(refusedSamples)("%s: %s -> %s is refused with 409 and the allowed list, nothing written", async ([workflow, from, to], { expect }) => {
    const ticket = await ticketIn(workflow, from);
    const before = await tickets.get(actor, ticket.id);

    const error = await failure(tickets.transition(actor, ticket.id, { to }));
    const after = await tickets.get(actor, ticket.id);

    expect(error.kind).toBe("conflict");
    expect(error.code).toBe("invalid_transition");
    expect(error.details).toEqual({ number: ticket.number, from, to, allowed: [...allowedTransitions(workflow, from)] });
    expect(after.version).toBe(before.version);
  });

  it("refuses states of other workflows with the same 409", async () => {
    const incident = await open("incident");

    const error = await failure(tickets.transition(actor, incident.id, { to: "authorize" }));

    expect(error.code).toBe("invalid_transition");
    expect(TICKET_STATES).toContain("authorize");
  });

  it("lets exactly one of several concurrent identical transitions through", async () => {
    const incident = await open("incident");

    const results = await Promise.allSettled(Array.from({ length: 5 }, () => tickets.transition(actor, incident.id, { to: "in_progress" })));
    const read = await tickets.get(actor, incident.id);

    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results) if (r.status === "rejected") expect((r.reason as DomainError).code).toBe("invalid_transition");
    expect(read.history.map((h) => h.action)).toEqual(["created", "transitioned"]);
  });

  it("tells the creation as it was, first, although only the ticket itself stores it", async () => {
    const incident = await open("incident", { impact: 3, urgency: 3 });
    await tickets.update(actor, incident.id, { impact: 1, urgency: 1 });

    const read = await tickets.get(actor, incident.id);

    expect(read.history.map((h) => [h.seq, h.action])).toEqual([[1, "created"], [2, "updated"]]);
    // The priority it was created with, not today's.
    expect(read.history[0]).toMatchObject({ actor: actor.actor, at: incident.createdAt, changes: [{ field: "state", from: null, to: "new" }, { field: "priority", from: null, to: incident.priority }] });
    expect(read.priority).not.toBe(incident.priority);
  });
});

describe("changes and their authorization", () => {
  it("keeps standard changes pre-authorized and asks normal and emergency changes for approval", async () => {
    const standard = await open("change", { changeType: "standard" });
    const normal = await ticketIn("change:normal", "authorize");
    const emergency = await ticketIn("change:emergency", "authorize");

    expect(standard.approval).toBe("not_required");
    expect((await tickets.get(actor, normal.id)).approval).toBe("requested");
    expect((await tickets.get(actor, emergency.id)).approval).toBe("requested");
  });

  it("records the approval of whoever authorizes a change", async () => {
    const change = await ticketIn("change:normal", "authorize");

    const scheduled = await tickets.transition({ ...agent(orgId, CHANGE_MANAGER), name: "Casey (CAB)" }, change.id, { to: "scheduled", note: "Low risk, backout tested" });
    const read = await tickets.get(actor, change.id);

    expect(scheduled).toMatchObject({ state: "scheduled", approval: "approved" });
    expect(scheduled.approvals).toEqual([
      {
        approver: `agent:${CHANGE_MANAGER}`,
        approverName: "Casey (CAB)",
        approverKind: "agent",
        decision: "approved",
        comment: "Low risk, backout tested",
        at: expect.any(String),
      },
    ]);
    expect(read.history.slice(-2).map((h) => h.action)).toEqual(["approved", "transitioned"]);
    expect(read.history.slice(-2).map((h) => h.actorName)).toEqual(["Casey (CAB)", "Casey (CAB)"]);
  });

  it("lets agents with the Change Manager role or level <= 3 authorize, not a specialist", async () => {
    const a = await ticketIn("change:emergency", "authorize");
    const b = await ticketIn("change:emergency", "authorize");

    const refused = await failure(tickets.transition(agent(orgId, SPECIALIST), a.id, { to: "scheduled" }));
    const byDirector = await tickets.transition(agent(orgId, DIRECTOR), a.id, { to: "scheduled" });
    const rejected = await tickets.transition(agent(orgId, CHANGE_MANAGER), b.id, { to: "new", reason: "No rollback plan" });

    expect(refused).toMatchObject({ kind: "forbidden", code: "change_authority_required" });
    expect(byDirector.state).toBe("scheduled");
    expect(rejected).toMatchObject({ state: "new", approval: "rejected" });
    expect(rejected.approvals?.[0]).toMatchObject({ decision: "rejected", comment: "No rollback plan" });
  });

  it("follows the organization's settings: only listed keys and agents once key holders are off", async () => {
    const other = await createTenant(platform);
    const boss = person(other.org.id, "01jbsskey00000000000000000");
    const clerk = person(other.org.id, "01jcrkkey00000000000000000");
    await tickets.putSettings(boss, { changeAuthority: { keyHolders: false, keyIds: ["01jbsskey00000000000000000"], roles: [], agentIds: [SPECIALIST], maxLevel: null }, autoCloseDays: 7 });
    const changes = await Promise.all([1, 2, 3].map(() => open("change", { changeType: "emergency" }, boss)));
    for (const c of changes) await tickets.transition(boss, c.id, { to: "authorize" });

    const byClerk = await failure(tickets.transition(clerk, changes[0]!.id, { to: "scheduled" }));
    const byManager = await failure(tickets.transition(agent(other.org.id, CHANGE_MANAGER), changes[0]!.id, { to: "scheduled" }));
    const byBoss = await tickets.transition(boss, changes[0]!.id, { to: "scheduled" });
    const byListedAgent = await tickets.transition(agent(other.org.id, SPECIALIST), changes[1]!.id, { to: "scheduled" });

    expect(byClerk.code).toBe("change_authority_required");
    expect(byManager.code).toBe("change_authority_required");
    expect(byBoss.state).toBe("scheduled");
    expect(byListedAgent.state).toBe("scheduled");
  });

  it("needs a close code and close notes to close a change", async () => {
    const change = await ticketIn("change:standard", "review");

    const error = await failure(tickets.transition(actor, change.id, { to: "closed" }));
    const closed = await tickets.transition(actor, change.id, { to: "closed", reason: "successful_with_issues", note: "Took 20 minutes longer" });

    expect(error).toMatchObject({ code: "resolution_required" });
    expect(closed).toMatchObject({ state: "closed", resolutionCode: "successful_with_issues" });
  });

  it("changes the change type only while new, which moves it to the other workflow", async () => {
    const change = await open("change");

    const emergency = await tickets.update(actor, change.id, { changeType: "emergency" });
    const authorize = await tickets.transition(actor, change.id, { to: "authorize" });
    const locked = await failure(tickets.update(actor, change.id, { changeType: "standard" }));

    expect(emergency.changeType).toBe("emergency");
    expect(authorize.state).toBe("authorize");
    expect(locked.code).toBe("change_type_locked");
  });
});

describe("problems", () => {
  it("marks a known error only with a workaround, and resolves with a problem resolution code", async () => {
    const problem = await ticketIn("problem", "root_cause_analysis");

    const missing = await failure(tickets.update(actor, problem.id, { knownError: true }));
    const known = await tickets.update(actor, problem.id, { knownError: true, workaround: "Restart the spooler", rootCause: "Driver leak" });
    await tickets.transition(actor, problem.id, { to: "fix_in_progress" });
    const wrongCode = await failure(tickets.transition(actor, problem.id, { to: "resolved", reason: "solved_permanently" }));
    const resolved = await tickets.transition(actor, problem.id, { to: "resolved", reason: "fix_applied" });
    const found = await tickets.list(actor, { known_error: "true", type: "problem" }, { limit: 50 });

    expect(missing.code).toBe("validation_failed");
    expect(known).toMatchObject({ knownError: true, workaround: "Restart the spooler", rootCause: "Driver leak" });
    expect(wrongCode.code).toBe("resolution_required");
    expect(resolved).toMatchObject({ state: "resolved", resolutionCode: "fix_applied" });
    expect(found.items.map((t) => t.id)).toContain(problem.id);
  });
});

describe("SLAs with a controlled clock", () => {
  it("pauses the resolution clock on hold and breaches after the target of running time", async () => {
    // Enterprise, priority 1: respond within 15 minutes, resolve within 2 hours.
    const incident = await open("incident", { impact: 1, urgency: 1 });
    clock.advanceMinutes(10);
    await tickets.transition(actor, incident.id, { to: "in_progress" });
    clock.advanceMinutes(50);
    await tickets.transition(actor, incident.id, { to: "on_hold", reason: "awaiting_caller" });

    clock.advanceMinutes(600);
    const onHold = await tickets.get(actor, incident.id);
    await tickets.transition(actor, incident.id, { to: "in_progress" });
    clock.advanceMinutes(60);
    const atTarget = await tickets.get(actor, incident.id);
    clock.advanceMinutes(1);
    const breached = await tickets.get(actor, incident.id);

    expect(onHold.sla.response).toMatchObject({ status: "stopped", elapsedSeconds: 600, breached: false });
    expect(onHold.sla.resolution).toMatchObject({ status: "paused", elapsedSeconds: 3600, remainingSeconds: 3600, dueAt: null, breached: false });
    expect(atTarget.sla).toMatchObject({ breached: false, atRisk: true, timeToBreachSeconds: 0 });
    expect(breached.sla).toMatchObject({ breached: true, atRisk: false, timeToBreachSeconds: -60 });
    expect(breached.sla.resolution).toMatchObject({ status: "running", elapsedSeconds: 7260, percent: 100.8 });
  });

  it("resolves an incident straight from on hold, with the resolution guard, clearing the hold reason and keeping hold time off the clock", async () => {
    const incident = await open("incident", { impact: 1, urgency: 1 });
    await tickets.transition(actor, incident.id, { to: "in_progress" });
    clock.advanceMinutes(30);
    await tickets.transition(actor, incident.id, { to: "on_hold", reason: "awaiting_vendor" });
    clock.advanceMinutes(300);

    const unexplained = await failure(tickets.transition(actor, incident.id, { to: "resolved" }));
    const resolved = await tickets.transition(actor, incident.id, { to: "resolved", reason: "solved_workaround", note: "Vendor sent a patch" });
    const read = await tickets.get(actor, incident.id);

    expect(unexplained.code).toBe("resolution_required");
    expect(resolved).toMatchObject({ state: "resolved", holdReason: null, resolutionCode: "solved_workaround", resolutionNotes: "Vendor sent a patch" });
    expect(resolved.sla.resolution).toMatchObject({ status: "stopped", elapsedSeconds: 1800, breached: false });
    expect(read.history.at(-1)?.changes).toEqual([
      { field: "state", from: "on_hold", to: "resolved" },
      { field: "holdReason", from: "awaiting_vendor", to: null },
      { field: "resolutionCode", from: null, to: "solved_workaround" },
      { field: "resolutionNotes", from: null, to: "Vendor sent a patch" },
    ]);
  });

  it("breaches the response clock of a ticket nobody picks up, and announces each breach once", async () => {
    const incident = await open("incident", { impact: 2, urgency: 1 }); // P2: respond within 30 minutes
    const eventsBefore = harness.events.length;

    clock.advanceMinutes(31);
    const [first, second] = await Promise.all([tickets.get(actor, incident.id), tickets.get(actor, incident.number)]);
    await tickets.list(actor, { breached: "true" }, { limit: 100 });
    await tickets.get(actor, incident.id);
    const announced = harness.events.slice(eventsBefore).filter((e) => e.type === "ticket.breached" && e.data.id === incident.id);

    expect(first.sla.response?.breached).toBe(true);
    expect(second.sla.breached).toBe(true);
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({ orgId, data: { id: incident.id, number: incident.number, clock: "response", priority: 2 } });
  });

  it("lists breached and at-risk tickets as of now", async () => {
    const tenant = await createTenant(platform, { tier: "basic" });
    const by = person(tenant.org.id);
    // Basic, P1: respond in 60 minutes; P5: respond in 48 hours.
    const urgent = await open("incident", { impact: 1, urgency: 1 }, by);
    const calm = await open("service_request", { impact: 3, urgency: 3 }, by);
    const handled = await open("incident", { impact: 1, urgency: 1 }, by);
    await tickets.transition(by, handled.id, { to: "in_progress" });

    clock.advanceMinutes(50);
    const atRisk = await tickets.list(by, { at_risk: "true" }, { limit: 10 });
    const breachedEarly = await tickets.list(by, { breached: "true" }, { limit: 10 });
    clock.advanceMinutes(20);
    const breached = await tickets.list(by, { breached: "true" }, { limit: 10 });
    const notBreached = await tickets.list(by, { breached: "false" }, { limit: 10 });

    expect(atRisk.items.map((t) => t.id)).toEqual([urgent.id]);
    expect(breachedEarly.items).toEqual([]);
    expect(breached.items.map((t) => t.id)).toEqual([urgent.id]);
    expect(notBreached.items.map((t) => t.id).sort()).toEqual([calm.id, handled.id].sort());
  });

  it("carries no SLA on problems and changes", async () => {
    const problem = await open("problem", { impact: 1, urgency: 1 });

    clock.advanceMinutes(10_000);
    const read = await tickets.get(actor, problem.id);

    expect(read.sla).toEqual({ response: null, resolution: null, breached: false, atRisk: false, timeToBreachSeconds: null });
  });
});

describe("ticket events", () => {
  it("publishes created, updated and transitioned events for subscribers", async () => {
    const start = harness.events.length;

    const incident = await open("incident", { impact: 2, urgency: 2 });
    await tickets.update(actor, incident.id, { urgency: 1 });
    await tickets.transition(actor, incident.id, { to: "in_progress" });
    const published = harness.events.slice(start);

    expect(published.map((e) => e.type)).toEqual(["ticket.created", "ticket.updated", "ticket.transitioned"]);
    expect(published[0]).toMatchObject({ orgId, data: { number: incident.number, priority: 3, state: "new" } });
    expect(published[1]!.data.changes).toEqual([
      { field: "urgency", from: 2, to: 1 },
      { field: "priority", from: 3, to: 2 },
    ]);
    expect(published[2]!.data).toMatchObject({ from: "new", to: "in_progress", actor: actor.actor });
  });

});

describe("ticket quota", () => {
  it("refuses without counting the ticket or burning its number, until the tier allows more", async () => {
    const tenant = await createTenant(platform, { tier: "basic" });
    const by = person(tenant.org.id);
    const first = await open("incident", {}, by);
    // Arrange the rest of the month's usage directly on the quota counter: 99 used of 100.
    await harness.client.send(
      new UpdateCommand({ TableName: platform.tableName, Key: keys.usage(tenant.org.id, "2026-03"), UpdateExpression: "SET tickets = :n", ExpressionAttributeValues: { ":n": 99 } }),
    );

    const last = await open("incident", {}, by);
    const refused = await failure(open("incident", {}, by));
    await call(platform, `/organizations/${tenant.org.id}`, { method: "PATCH", key: platform.operatorKey, body: { tier: "professional" } });
    const afterUpgrade = await open("incident", {}, by);

    expect(first.number).toBe("INC0001001");
    expect(last.number).toBe("INC0001002");
    expect(refused).toMatchObject({ kind: "quota_exceeded", code: "ticket_quota_exceeded", details: { limit: 100, period: "2026-03", resetsAt: "2026-04-01T00:00:00.000Z" } });
    expect(afterUpgrade.number).toBe("INC0001003");
  });

  it("refuses at the limit even when the instance skipped the quota read, and gives the number back", async () => {
    const tenant = await createTenant(platform, { tier: "basic" });
    const create = () => call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "incident", title: "Quota", impact: 2, urgency: 2 } });
    // The first create reads the count (0): the warm instance now knows it far below 100 and skips the read.
    const first = await create();
    // Other instances use up the month meanwhile (arranged on the quota counter).
    const period = new Date().toISOString().slice(0, 7);
    await harness.client.send(
      new UpdateCommand({ TableName: platform.tableName, Key: keys.usage(tenant.org.id, period), UpdateExpression: "SET tickets = :n", ExpressionAttributeValues: { ":n": 100 } }),
    );

    const refused = await create();
    await call(platform, `/organizations/${tenant.org.id}`, { method: "PATCH", key: platform.operatorKey, body: { tier: "professional" } });
    const next = await create();

    expect(first.body.number).toBe("INC0001001");
    expect(refused.body.code).toBe("ticket_quota_exceeded");
    // The transaction refused it; the number it took went back, so none is missing.
    expect(next.body.number).toBe("INC0001002");
  });
});

// Keep the workflow list honest: every ticket type has a workflow here.
it("covers every ticket type's workflows", () => {
  const types = new Set(WORKFLOWS.map((w) => w.split(":")[0]));
  expect([...types].sort()).toEqual(["change", "incident", "problem", "service_request"]);
  expect(workflowOf("change", "standard")).toBe("change:standard");
});
