import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentTool, ToolContext } from "../../core/agents/tools";
import type { DomainError } from "../../core/errors";
import { createAssignmentGroupStore } from "../../core/db/assignment-group.repository";
import { createAssignmentGroupService } from "../../core/tickets/assignment-group-service";
import { createItsmTools } from "../../core/tickets/itsm-tools";
import type { TicketService } from "../../core/tickets/ticket-service";
import type { Platform } from "../../local/platform";
import { createTenant, startTestPlatform } from "../support/platform";
import { ticketServiceFor } from "../support/tickets";

/** The ITSM agents' tools, executed directly against the real ticket service and DynamoDB Local. */
let platform: Platform;
let harness: ReturnType<typeof ticketServiceFor>;
let tickets: TicketService;
let tools: Map<string, AgentTool>;
let orgId: string;

const INCIDENT_MANAGER = "01jncdntmanager00000000000"; // agent ids are ULIDs: no i, l, o, u
const PROBLEM_MANAGER = "01jprbmmanager000000000000";
const CHANGE_MANAGER = "01jchangemanager0000000000";

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [] });
  orgId = (await createTenant(platform, { tier: "professional" })).org.id;
  harness = ticketServiceFor(platform, {
    agents: [
      { id: INCIDENT_MANAGER, roleId: "incident-manager", level: 5 },
      { id: PROBLEM_MANAGER, roleId: "problem-manager", level: 5 },
      { id: CHANGE_MANAGER, roleId: "change-manager", level: 5 },
    ],
  });
  tickets = harness.service;
  tools = new Map(createItsmTools({ tickets }).map((t) => [t.name, t]));
});
afterAll(async () => {
  harness?.close();
  await platform?.stop();
});

const as = (agentId: string, org = orgId): ToolContext => ({ orgId: org, agentId, actor: `agent:${agentId}` });
const run = (name: string, args: unknown, agentId = INCIDENT_MANAGER, org = orgId) => tools.get(name)!.execute(args, as(agentId, org)) as Promise<any>;
const person = () => ({ kind: "person" as const, orgId, actor: "key:test" });

async function failure(promise: Promise<unknown>): Promise<DomainError> {
  try {
    await promise;
  } catch (error) {
    return error as DomainError;
  }
  throw new Error("expected the tool to fail");
}

describe("ITSM tool definitions", () => {
  it.each([
    ["create_ticket", ["type", "title"]],
    ["update_ticket", ["ticket"]],
    ["transition_ticket", ["ticket", "to"]],
    ["link_tickets", ["ticket", "related"]],
    ["search_tickets", undefined],
    ["add_comment", ["ticket", "text"]],
  ])("%s declares a closed JSON Schema object with its required arguments", (name, required) => {
    const tool = tools.get(name)!;

    expect(tool.name).toMatch(/^[a-zA-Z0-9_-]{1,64}$/);
    expect(tool.description.length).toBeGreaterThan(40);
    expect(tool.parameters).toMatchObject({ type: "object", additionalProperties: false });
    expect(tool.parameters).not.toHaveProperty("$schema");
    expect(tool.parameters.required).toEqual(required);
    expect(JSON.stringify(tool.parameters)).not.toContain('"pattern":"^(?:(?:\\\\d\\\\d');
  });

  it("spells out enums and bounds the model must respect", () => {
    const create = tools.get("create_ticket")!.parameters as { properties: Record<string, Record<string, unknown>> };
    const transition = tools.get("transition_ticket")!.parameters as { properties: Record<string, Record<string, unknown>> };

    expect(create.properties.type!.enum).toEqual(["incident", "service_request", "change", "problem"]);
    expect(create.properties.impact).toMatchObject({ type: "integer", minimum: 1, maximum: 3 });
    expect(transition.properties.to!.enum).toContain("root_cause_analysis");
    expect(transition.properties.ticket!.pattern).toBeTypeOf("string");
  });
});

describe("ITSM tools on the ticket service", () => {
  it("turns 'the payroll service is down for everyone' into a P1 incident opened by the agent", async () => {
    const result = await run("create_ticket", {
      type: "incident",
      title: "Payroll service down for everyone",
      description: "Nobody can open payroll since 09:00",
      affected_service: "Payroll",
      category: "software",
      impact: 1,
      urgency: 1,
    });
    const stored = await tickets.get(person(), result.number);

    expect(result).toMatchObject({ type: "incident", priority: 1, priority_label: "Critical", state: "new", affected_service: "Payroll" });
    expect(result.number).toMatch(/^INC\d{7}$/);
    expect(result.sla).toEqual({ breached: false, at_risk: false, time_to_breach_minutes: 30 });
    expect(stored).toMatchObject({ createdBy: `agent:${INCIDENT_MANAGER}`, caller: { kind: "agent", id: INCIDENT_MANAGER } });
    expect(stored.history[0]).toMatchObject({ action: "created", actor: `agent:${INCIDENT_MANAGER}` });
  });

  it("searches by words and filters, and pages with next_cursor", async () => {
    for (const title of ["Email bounce storm", "Email quota full", "Printer offline"]) await run("create_ticket", { type: "incident", title, impact: 2, urgency: 2 });

    const email = await run("search_tickets", { query: "email", type: "incident", priority: 3, limit: 1 });
    const more = await run("search_tickets", { query: "email", type: "incident", priority: 3, limit: 1, cursor: email.next_cursor });
    const none = await run("search_tickets", { query: "email printer" });

    expect(email.count).toBe(1);
    expect(email.tickets[0].title).toBe("Email quota full");
    expect(more.tickets.map((t: { title: string }) => t.title)).toEqual(["Email bounce storm"]);
    expect(none.count).toBe(0);
  });

  it("works an incident: assign, transition, comment; a refused move returns the allowed states", async () => {
    const { number } = await run("create_ticket", { type: "incident", title: "VPN down in Lyon", impact: 2, urgency: 1 });

    const assigned = await run("update_ticket", { ticket: number, assigned_to: INCIDENT_MANAGER, urgency: 2 });
    const working = await run("transition_ticket", { ticket: number.toLowerCase(), to: "in_progress", note: "Checking the concentrator" });
    const refused = await failure(run("transition_ticket", { ticket: number, to: "closed" }));
    const comment = await run("add_comment", { ticket: number, text: "We are on it; next update in 30 minutes." });
    const held = await run("transition_ticket", { ticket: number, to: "on_hold", reason: "awaiting_vendor" });
    const stored = await tickets.get(person(), number);

    expect(assigned).toMatchObject({ assigned_to: INCIDENT_MANAGER, priority: 3 });
    expect(working.state).toBe("in_progress");
    expect(refused).toMatchObject({ kind: "conflict", code: "invalid_transition", details: { from: "in_progress", to: "closed", allowed: ["on_hold", "resolved", "canceled"] } });
    expect(refused.message).toContain("allowed from in_progress: on_hold, resolved, canceled");
    expect(comment).toMatchObject({ ticket: number, seq: 4, visibility: "comment" });
    expect(held).toMatchObject({ state: "on_hold", hold_reason: "awaiting_vendor" });
    expect(stored.history.map((h) => [h.action, h.actor])).toEqual([
      ["created", `agent:${INCIDENT_MANAGER}`],
      ["updated", `agent:${INCIDENT_MANAGER}`],
      ["transitioned", `agent:${INCIDENT_MANAGER}`],
      ["commented", `agent:${INCIDENT_MANAGER}`],
      ["transitioned", `agent:${INCIDENT_MANAGER}`],
    ]);
  });

  it("groups incidents under a problem, marks the known error and finds it", async () => {
    const a = await run("create_ticket", { type: "incident", title: "Spooler crash on floor 2" });
    const b = await run("create_ticket", { type: "incident", title: "Spooler crash on floor 5" });
    const problem = await run("create_ticket", { type: "problem", title: "Print spooler crashes", impact: 2, urgency: 2 }, PROBLEM_MANAGER);

    await run("link_tickets", { ticket: problem.number, related: a.number }, PROBLEM_MANAGER);
    const linked = await run("link_tickets", { ticket: b.id, related: problem.id }, PROBLEM_MANAGER);
    await run("transition_ticket", { ticket: problem.number, to: "assess" }, PROBLEM_MANAGER);
    const known = await run("update_ticket", { ticket: problem.number, known_error: true, workaround: "Restart the spooler service", root_cause: "Driver memory leak" }, PROBLEM_MANAGER);
    const found = await run("search_tickets", { known_error: true, query: "spooler" });

    expect(linked.links).toEqual([{ kind: "problem", number: problem.number }]);
    expect(known).toMatchObject({ known_error: true, workaround: "Restart the spooler service" });
    expect(known.links.map((l: { number: string }) => l.number).sort()).toEqual([a.number, b.number].sort());
    expect(found.tickets.map((t: { number: string }) => t.number)).toEqual([problem.number]);
  });

  it("lets the Change Manager authorize a change an Incident Manager may not", async () => {
    const change = await run("create_ticket", { type: "change", title: "Patch payroll DB", change_type: "normal", risk: "high" }, CHANGE_MANAGER);
    await run("transition_ticket", { ticket: change.number, to: "assess" }, CHANGE_MANAGER);
    await run("transition_ticket", { ticket: change.number, to: "authorize" }, CHANGE_MANAGER);

    const refused = await failure(run("transition_ticket", { ticket: change.number, to: "scheduled" }, INCIDENT_MANAGER));
    const scheduled = await run("transition_ticket", { ticket: change.number, to: "scheduled", note: "CAB: approved" }, CHANGE_MANAGER);

    expect(refused).toMatchObject({ kind: "forbidden", code: "change_authority_required" });
    expect(scheduled).toMatchObject({ state: "scheduled", change_type: "normal", risk: "high", approval: "approved" });
  });

  it("refuses invalid arguments with the offending fields, so the model can correct itself", async () => {
    const missing = await failure(run("create_ticket", { type: "incident" }));
    const outOfRange = await failure(run("create_ticket", { type: "incident", title: "x", impact: 5 }));
    const unknown = await failure(run("create_ticket", { type: "incident", title: "x", priority: 1 }));
    const wrongType = await failure(run("create_ticket", { type: "incident", title: "x", change_type: "emergency" }));
    const badRef = await failure(run("add_comment", { ticket: "the payroll one", text: "hi" }));
    const nothing = await failure(run("update_ticket", { ticket: "INC0001001" }));

    expect(missing).toMatchObject({ code: "invalid_tool_arguments", details: { errors: [expect.objectContaining({ field: "title" })] } });
    expect(outOfRange.message).toContain("impact");
    expect(unknown.message).toContain("priority");
    expect(wrongType).toMatchObject({ code: "validation_failed", details: { errors: [{ field: "changeType", message: "applies to changes only" }] } });
    expect(badRef.details.errors).toEqual([expect.objectContaining({ field: "ticket" })]);
    expect(nothing.code).toBe("invalid_tool_arguments");
  });

  it("accepts arguments as a JSON string, as function calling delivers them", async () => {
    const result = await run("create_ticket", JSON.stringify({ type: "service_request", title: "New monitor", impact: 3, urgency: 2 }));

    expect(result).toMatchObject({ number: expect.stringMatching(/^REQ\d{7}$/), priority: 4 });
  });

  it("assigns to an assignment group and one of its members, lists the group's queue, and refuses a non-member", async () => {
    const groups = createAssignmentGroupService({ store: createAssignmentGroupStore({ client: harness.client, table: platform.tableName }) });
    const desk = await groups.create(person(), { name: "Major incidents", description: "", members: [INCIDENT_MANAGER] });

    const created = await run("create_ticket", { type: "incident", title: "Mail is down", assignment_group: desk.id.toUpperCase(), assigned_to: INCIDENT_MANAGER });
    const outsider = await failure(run("update_ticket", { ticket: created.number, assigned_to: PROBLEM_MANAGER }));
    const queue = await run("search_tickets", { assignment_group: desk.id });

    expect(created).toMatchObject({ assignment_group: desk.id, assigned_to: INCIDENT_MANAGER });
    expect(outsider).toMatchObject({ code: "assignee_not_in_group" });
    expect(queue.tickets.map((t: { number: string }) => t.number)).toEqual([created.number]);
  });

  it("acts only inside the calling agent's organization", async () => {
    const other = (await createTenant(platform)).org.id;
    const theirs = await run("create_ticket", { type: "incident", title: "Other org outage" }, INCIDENT_MANAGER, other);

    const peek = await failure(run("add_comment", { ticket: theirs.id, text: "hello" }));
    const search = await run("search_tickets", { query: "other org outage" });

    expect(peek).toMatchObject({ kind: "not_found" });
    expect(search.count).toBe(0);
  });
});
