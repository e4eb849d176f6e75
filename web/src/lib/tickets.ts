import type { Ticket } from "../../../core/tickets/ticket.schema";
import type { AssignmentGroup } from "../../../core/tickets/assignment-group.schema";
import { allowedTransitions, guardOf, isFinal, workflowOf, type Guard } from "../../../core/tickets/state-machines";

export type { Ticket };

/**
 * The ticket vocabulary, as core/tickets/ticket.schema.ts defines it. Copied, not imported: that module
 * builds zod schemas, which would add zod to the dashboard's bundle (test/e2e/web-vocabulary.test.ts
 * checks that the copies still match). The workflows themselves are imported: state-machines.ts is
 * plain code.
 */
export const TICKET_TYPES = ["incident", "service_request", "change", "problem"] as const;
export const TICKET_STATES = [
  "new", "in_progress", "on_hold", "resolved", "closed", "canceled", "assess", "authorize", "scheduled",
  "implement", "review", "root_cause_analysis", "fix_in_progress", "approved", "fulfilling", "rejected",
] as const;
export const HOLD_REASONS = ["awaiting_caller", "awaiting_change", "awaiting_problem", "awaiting_vendor"] as const;
export const INCIDENT_RESOLUTION_CODES = [
  "solved_permanently", "solved_workaround", "solved_remotely", "resolved_by_problem", "resolved_by_change",
  "not_reproducible", "too_costly", "duplicate", "canceled_by_caller",
] as const;
export const PROBLEM_RESOLUTION_CODES = ["fix_applied", "risk_accepted", "duplicate", "canceled"] as const;
export const CHANGE_CLOSE_CODES = ["successful", "successful_with_issues", "unsuccessful"] as const;
export const CHANGE_TYPES = ["normal", "standard", "emergency"] as const;
export const PRIORITY_LABELS: Record<number, string> = { 1: "Critical", 2: "High", 3: "Moderate", 4: "Low", 5: "Planning" };

/** What a transition asks for: the codes to choose from and whether notes are needed. */
export interface TransitionNeeds {
  guard: Guard | undefined;
  reasonLabel?: string;
  reasons?: readonly string[];
  notes?: "required" | "optional";
}

/** The moves the ticket's workflow allows from its state, so the dashboard offers only those. */
export function nextStates(ticket: Ticket): readonly string[] {
  return allowedTransitions(workflowOf(ticket.type, ticket.changeType), ticket.state);
}

export function needsOf(ticket: Ticket, to: string): TransitionNeeds {
  const guard = guardOf(workflowOf(ticket.type, ticket.changeType), ticket.state, to as Ticket["state"]);
  switch (guard) {
    case "hold_reason":
      return { guard, reasonLabel: "Hold reason", reasons: HOLD_REASONS, notes: "optional" };
    case "resolution":
      return ticket.type === "incident"
        ? { guard, reasonLabel: "Resolution code", reasons: INCIDENT_RESOLUTION_CODES, notes: "required" }
        : { guard, reasonLabel: "Resolution code", reasons: PROBLEM_RESOLUTION_CODES, notes: "optional" };
    case "close_code":
      return { guard, reasonLabel: "Close code", reasons: CHANGE_CLOSE_CODES, notes: "required" };
    default:
      return { guard, notes: "optional" };
  }
}

export const isClosed = (ticket: Ticket): boolean => isFinal(ticket.state);

/** One word for a ticket's SLA: breached, at risk, paused, met, on track, or none. */
export function slaStatus(ticket: Ticket): { tone: "bad" | "warn" | "good" | "neutral" | "info"; text: string } {
  const { sla } = ticket;
  if (!sla.response && !sla.resolution) return { tone: "neutral", text: "No SLA" };
  if (sla.breached) return { tone: "bad", text: "Breached" };
  if (sla.atRisk) return { tone: "warn", text: "At risk" };
  const clocks = [sla.response, sla.resolution].filter((c) => c !== null);
  if (clocks.some((c) => c.status === "running")) return { tone: "good", text: "On track" };
  if (clocks.some((c) => c.status === "paused")) return { tone: "info", text: "Paused" };
  return { tone: "good", text: "Met" };
}

export const CHANGE_RISKS = ["very_high", "high", "moderate", "low"] as const;

/** An assignment group as the API returns it (core/tickets/assignment-group.schema.ts). */
export type { AssignmentGroup };

/** The agents a ticket of that group can be assigned to: the group's members, or everyone without a group. */
export function assignableAgents<A extends { id: string }>(agents: readonly A[], group: AssignmentGroup | undefined): A[] {
  return group ? agents.filter((a) => group.members.includes(a.id)) : [...agents];
}

/** A `datetime-local` value as an ISO instant, and back (in the browser's time zone). */
export const fromLocalInput = (value: string): string | null => (value ? new Date(value).toISOString() : null);
export function toLocalInput(iso: string | null | undefined): string {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
