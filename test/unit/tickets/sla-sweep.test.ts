import { describe, expect, it } from "vitest";
import type { AgentRecord } from "../../../core/agents/agent.schema";
import type { TicketRecord } from "../../../core/tickets/ports";
import { escalationTarget, slaActions } from "../../../core/tickets/sla-sweep";
import { clocksForState, startClocks } from "../../../core/tickets/sla";

/** The sweep's pure decisions: what one ticket is owed at a time, and who hears of a breach. */
const T0 = new Date("2026-03-02T08:00:00.000Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);
const DAY = 24 * 60;

function ticket(extra: Partial<TicketRecord> = {}): TicketRecord {
  // Basic tier, P1: respond within 60 minutes, resolve within 8 hours.
  return {
    id: "01jtckt0000000000000000000",
    orgId: "01jorg00000000000000000000",
    number: "INC0000001",
    type: "incident",
    title: "Mail is down",
    state: "new",
    priority: 1,
    assignedTo: null,
    resolvedAt: null,
    slaClocks: startClocks("incident", 1, "basic", T0),
    breachAnnounced: [],
    ...extra,
  } as TicketRecord;
}

const agent = (id: string, roleId: string, managerId: string | null = null) => ({ id, roleId, managerId, level: 5, name: id }) as unknown as AgentRecord;

describe("slaActions", () => {
  it("owes nothing before 75% of a target", () => {
    expect(slaActions(ticket(), at(44), 7)).toEqual({ announce: [], escalate: [], atRisk: [], close: false });
  });

  it("marks a running clock at risk from 75% of its target, once", () => {
    expect(slaActions(ticket(), at(45), 7).atRisk).toEqual(["response"]);
    expect(slaActions(ticket({ breachAnnounced: ["at_risk:response"] }), at(50), 7).atRisk).toEqual([]);
  });

  it("announces and escalates a breach; escalates one a read announced already; nothing once both are marked", () => {
    expect(slaActions(ticket(), at(61), 7)).toMatchObject({ announce: ["response"], escalate: ["response"], atRisk: [] });
    expect(slaActions(ticket({ breachAnnounced: ["response"] }), at(61), 7)).toMatchObject({ announce: [], escalate: ["response"] });
    expect(slaActions(ticket({ breachAnnounced: ["escalated:response", "response"] }), at(61), 7)).toMatchObject({ announce: [], escalate: [] });
  });

  it("a ticket handled at the last second met its SLA (strictly past the target is a breach)", () => {
    expect(slaActions(ticket(), at(60), 7).announce).toEqual([]);
  });

  it("does not mark a stopped or paused clock at risk", () => {
    const onHold = ticket({ state: "on_hold", slaClocks: clocksForState(startClocks("incident", 1, "basic", T0), "on_hold", at(400)) });
    expect(slaActions(onHold, at(470), 7).atRisk).toEqual([]);
  });

  it("closes a resolved incident only after autoCloseDays, never a problem, and never with 0", () => {
    const resolved = (type: TicketRecord["type"]) => ticket({ type, state: "resolved", resolvedAt: T0.toISOString(), slaClocks: { response: null, resolution: null } });
    expect(slaActions(resolved("incident"), at(7 * DAY), 7).close).toBe(false);
    expect(slaActions(resolved("incident"), at(7 * DAY + 1), 7).close).toBe(true);
    expect(slaActions(resolved("problem"), at(30 * DAY), 7).close).toBe(false);
    expect(slaActions(resolved("incident"), at(365 * DAY), 0).close).toBe(false);
    expect(slaActions(ticket({ state: "in_progress", resolvedAt: null }), at(30 * DAY), 7).close).toBe(false);
  });
});

describe("escalationTarget", () => {
  const agents = [agent("lead", "team-lead"), agent("im-b", "incident-manager", "lead"), agent("im-a", "incident-manager", "lead"), agent("root", "ceo"), agent("sra", "service-request-agent", "lead")];

  it("tells the assignee's manager", () => {
    expect(escalationTarget(ticket({ assignedTo: "im-b" }), agents)).toEqual({ to: "lead", via: "manager" });
  });

  it("else the organization's ITSM agent for the ticket's type (the oldest)", () => {
    expect(escalationTarget(ticket(), agents)).toEqual({ to: "im-a", via: "itsm_agent" });
    expect(escalationTarget(ticket({ assignedTo: "root" }), agents)).toEqual({ to: "im-a", via: "itsm_agent" });
    expect(escalationTarget(ticket({ type: "service_request" }), agents)).toEqual({ to: "sra", via: "itsm_agent" });
  });

  it("else nobody", () => {
    expect(escalationTarget(ticket({ assignedTo: "gone" }), [agent("root", "ceo")])).toBeUndefined();
  });
});
