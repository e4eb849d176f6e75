import type { AgentRecord, MessageRecord } from "../agents/agent.schema";
import type { EventPublisher } from "../realtime/events";
import { type Clock, systemClock } from "../shared/clock";
import { newId } from "../ids";
import type { OrganizationStore } from "../tenants/ports";
import type { TicketActor, TicketRecord, TicketSettingsStore, TicketStore } from "./ports";
import { AT_RISK_PERCENT, type ClockName, type SlaMark, clockView, hasSla } from "./sla";
import { DEFAULT_AUTO_CLOSE_DAYS } from "./ticket.schema";
import { breachEventData } from "./ticket-service";

const DAY_MS = 24 * 60 * 60 * 1_000;
const CLOCKS: readonly ClockName[] = ["response", "resolution"];

/** The ITSM role that looks after each ticket type with an SLA (core/agents/roles.ts). */
export const ITSM_ROLE_OF: Partial<Record<TicketRecord["type"], string>> = { incident: "incident-manager", service_request: "service-request-agent" };

/** What the sweep owes one ticket at `now`: the marks it has not recorded yet, and whether it is due to close. */
export interface SlaActions {
  /** Breached clocks whose breach was not announced (by a read or a sweep). */
  announce: ClockName[];
  /** Breached clocks not escalated yet (a read may have announced the breach; only the sweep escalates). */
  escalate: ClockName[];
  /** Running clocks past AT_RISK_PERCENT of their target, not breached, not marked at risk yet. */
  atRisk: ClockName[];
  /**
   * Resolved longer than the organization's auto-close days (never when they are 0). Only incidents
   * reach `resolved` among the types with an SLA (service requests close when fulfilled); problems
   * have no SLA and are closed by their owner.
   */
  close: boolean;
}

/** The pure decision of the sweep for one ticket. */
export function slaActions(ticket: TicketRecord, now: Date, autoCloseDays: number): SlaActions {
  const marked = (mark: SlaMark) => ticket.breachAnnounced.includes(mark);
  const actions: SlaActions = { announce: [], escalate: [], atRisk: [], close: false };
  for (const name of CLOCKS) {
    const clock = ticket.slaClocks[name];
    if (!clock) continue;
    const view = clockView(clock, now);
    if (view.breached) {
      if (!marked(name)) actions.announce.push(name);
      if (!marked(`escalated:${name}`)) actions.escalate.push(name);
    } else if (view.status === "running" && view.percent >= AT_RISK_PERCENT && !marked(`at_risk:${name}`)) actions.atRisk.push(name);
  }
  actions.close =
    autoCloseDays > 0 && hasSla(ticket.type) && ticket.state === "resolved" && ticket.resolvedAt !== null && now.getTime() - Date.parse(ticket.resolvedAt) > autoCloseDays * DAY_MS;
  return actions;
}

/**
 * Who is told of a breach: the assignee agent's manager when the ticket is assigned to an agent that
 * has one, else the organization's agent of the ITSM role for the ticket's type (the oldest, by id),
 * else nobody.
 */
export function escalationTarget(ticket: TicketRecord, agents: readonly AgentRecord[]): { to: string; via: "manager" | "itsm_agent" } | undefined {
  const assignee = ticket.assignedTo ? agents.find((a) => a.id === ticket.assignedTo) : undefined;
  if (assignee?.managerId && agents.some((a) => a.id === assignee.managerId)) return { to: assignee.managerId, via: "manager" };
  const role = ITSM_ROLE_OF[ticket.type];
  const itsm = role ? agents.filter((a) => a.roleId === role).sort((a, b) => a.id.localeCompare(b.id))[0] : undefined;
  return itsm ? { to: itsm.id, via: "itsm_agent" } : undefined;
}

export interface SlaSweepDeps {
  orgs: Pick<OrganizationStore, "list">;
  tickets: Pick<TicketStore, "list" | "announceBreach">;
  settings: Pick<TicketSettingsStore, "get">;
  agents: { list(orgId: string): Promise<AgentRecord[]> };
  messages: { deliver(orgId: string, messages: MessageRecord[]): Promise<void> };
  events: EventPublisher;
  /** The ticket service's auto-close (TicketService.closeResolved): the workflow, guards and version check. */
  closeResolved(actor: TicketActor, id: string, options: { resolvedBefore: Date; note: string }): Promise<boolean>;
  clock?: Clock;
  /** Time the run has left (its function's remaining time); it stops taking work `marginMs` before the end. */
  remainingMs?: () => number;
  marginMs?: number;
  /** Organizations or tickets read per query, queries per run, and tickets looked at per run, at most. */
  pageSize?: number;
  maxPages?: number;
  maxTickets?: number;
}

export interface SlaSweepReport {
  organizations: number;
  tickets: number;
  /** Breaches announced (`ticket.breached`) by this run. */
  breached: number;
  /** Clocks newly marked at risk (`ticket.at_risk`). */
  atRisk: number;
  /** Breaches escalated with an inbox message; and those with nobody to tell (no manager, no ITSM agent). */
  escalated: number;
  escalatedToNobody: number;
  /** Resolved tickets closed automatically. */
  closed: number;
  /** Tickets whose sweep failed (the next run tries again). */
  failed: number;
  pages: number;
  /** False when the run stopped at its time, page or ticket bound with work left: the next run goes on. */
  complete: boolean;
}

/** The actor of everything the sweep does, as history and `updatedBy` record it. */
export const systemActor = (orgId: string): TicketActor => ({ kind: "person", orgId, actor: "system", name: "System" });

/**
 * The scheduled SLA sweep (functions/scheduled/sla-sweep.ts): for every organization, a page at a
 * time, its open tickets (the open-tickets index, which keeps resolved tickets until they close), a
 * page at a time, it
 * - announces breaches nobody has read yet (`ticket.breached`, once per clock, the same conditional
 *   mark a read sets) and escalates each breach once with an inbox message (escalationTarget);
 * - marks running clocks at risk once (`ticket.at_risk`);
 * - closes resolved incidents after the organization's `autoCloseDays`.
 * Every mark is a conditional write that only one writer wins, so a second sweep (or a read racing
 * it) changes nothing. A run is bounded by pages, tickets and its remaining time; it starts over from
 * the first organization each time (what it already did is marked and skipped).
 */
export async function sweepSlas(deps: SlaSweepDeps): Promise<SlaSweepReport> {
  const { orgs, tickets, settings, agents, messages, events, closeResolved, clock = systemClock } = deps;
  const { remainingMs = () => Number.POSITIVE_INFINITY, marginMs = 5_000, pageSize = 100, maxPages = 1_000, maxTickets = 20_000 } = deps;
  const now = clock.now();
  const at = now.toISOString();
  const report: SlaSweepReport = { organizations: 0, tickets: 0, breached: 0, atRisk: 0, escalated: 0, escalatedToNobody: 0, closed: 0, failed: 0, pages: 0, complete: true };
  const stop = () => {
    if (report.pages < maxPages && report.tickets < maxTickets && remainingMs() >= marginMs) return false;
    report.complete = false;
    return true;
  };
  const publish = async (type: string, orgId: string, data: Record<string, unknown>) => {
    try {
      await events.publish({ type, orgId, time: at, data });
    } catch {
      // Best effort, as for every ticket event: the mark is recorded either way.
    }
  };

  async function escalate(ticket: TicketRecord, name: ClockName, orgAgents: () => Promise<AgentRecord[]>) {
    if (!(await tickets.announceBreach(ticket.orgId, ticket.id, `escalated:${name}`))) return;
    const target = escalationTarget(ticket, await orgAgents());
    if (!target) {
      report.escalatedToNobody += 1;
      return;
    }
    const from = target.via === "manager" ? ticket.assignedTo! : "system";
    const minutes = ticket.slaClocks[name]!.targetMinutes;
    const message: MessageRecord = {
      id: newId(),
      kind: "escalate",
      from,
      to: target.to,
      subject: `SLA breached: ${ticket.number} (${name})`,
      body:
        `The ${name} SLA of ${ticket.number} "${ticket.title}" (priority ${ticket.priority}, ${ticket.state}) is breached: its target was ${minutes} minutes. ` +
        (target.via === "manager" ? `It is assigned to ${ticket.assignedTo}, who reports to you.` : ticket.assignedTo ? `Its assignee has no manager.` : `It is not assigned.`),
      status: "queued",
      path: [from, target.to],
      createdAt: at,
      updatedAt: at,
      sentBy: "system",
    };
    await messages.deliver(ticket.orgId, [message]);
    report.escalated += 1;
    await publish("message.created", ticket.orgId, { message });
  }

  async function sweepTicket(ticket: TicketRecord, autoCloseDays: number, orgAgents: () => Promise<AgentRecord[]>) {
    const actions = slaActions(ticket, now, autoCloseDays);
    for (const name of actions.announce) {
      if (!(await tickets.announceBreach(ticket.orgId, ticket.id, name))) continue;
      report.breached += 1;
      await publish("ticket.breached", ticket.orgId, breachEventData(ticket, name));
    }
    for (const name of actions.escalate) await escalate(ticket, name, orgAgents);
    for (const name of actions.atRisk) {
      if (!(await tickets.announceBreach(ticket.orgId, ticket.id, `at_risk:${name}`))) continue;
      report.atRisk += 1;
      await publish("ticket.at_risk", ticket.orgId, breachEventData(ticket, name));
    }
    if (actions.close) {
      const note = `Closed automatically after ${autoCloseDays} days resolved.`;
      if (await closeResolved(systemActor(ticket.orgId), ticket.id, { resolvedBefore: new Date(now.getTime() - autoCloseDays * DAY_MS), note })) report.closed += 1;
    }
  }

  let orgCursor: string | undefined;
  do {
    if (stop()) return report;
    const orgPage = await orgs.list({ limit: pageSize, ...(orgCursor ? { cursor: orgCursor } : {}) });
    report.pages += 1;
    for (const org of orgPage.items) {
      if (org.status !== "active") continue;
      report.organizations += 1;
      const autoCloseDays = (await settings.get(org.id))?.autoCloseDays ?? DEFAULT_AUTO_CLOSE_DAYS;
      // Read once per organization, and only when a breach needs a recipient.
      let agentList: Promise<AgentRecord[]> | undefined;
      const orgAgents = () => (agentList ??= agents.list(org.id));
      let cursor: string | undefined;
      do {
        if (stop()) return report;
        const page = await tickets.list(org.id, { active: true }, { limit: pageSize, ...(cursor ? { cursor } : {}) });
        report.pages += 1;
        for (const ticket of page.items) {
          if (stop()) return report;
          report.tickets += 1;
          try {
            await sweepTicket(ticket, autoCloseDays, orgAgents);
          } catch {
            // One ticket's failure (a throttled write) must not stop the sweep of the others; what it
            // did not mark is done by the next run.
            report.failed += 1;
          }
        }
        cursor = page.cursor;
      } while (cursor);
    }
    orgCursor = orgPage.cursor;
  } while (orgCursor);
  return report;
}
