import type { ChangeType, TicketState, TicketType } from "./ticket.schema";

/**
 * The ITIL workflows as explicit transition tables. A transition not in its table is refused (409 with
 * the allowed ones). Changes have three workflows, one per change type.
 *
 * Beyond the lists, two ServiceNow behaviours are included on purpose: an authorizer who rejects
 * a change sends it back to `new` (authorize -> new), and a problem can be `canceled` before it is
 * resolved (ServiceNow closes it with resolution code "Canceled").
 */
export type Workflow = "incident" | "service_request" | "problem" | "change:normal" | "change:standard" | "change:emergency";

type Table = Partial<Record<TicketState, readonly TicketState[]>>;

const TABLES: Record<Workflow, Table> = {
  incident: {
    new: ["in_progress", "canceled"],
    in_progress: ["on_hold", "resolved", "canceled"],
    on_hold: ["in_progress", "canceled"],
    // Reopening: the caller says it is not fixed after all.
    resolved: ["closed", "in_progress"],
    closed: [],
    canceled: [],
  },
  service_request: {
    new: ["approved", "rejected", "canceled"],
    approved: ["fulfilling", "canceled"],
    fulfilling: ["closed", "canceled"],
    closed: [],
    rejected: [],
    canceled: [],
  },
  problem: {
    new: ["assess", "canceled"],
    assess: ["root_cause_analysis", "canceled"],
    root_cause_analysis: ["fix_in_progress", "canceled"],
    fix_in_progress: ["resolved", "canceled"],
    resolved: ["closed"],
    closed: [],
    canceled: [],
  },
  "change:normal": {
    new: ["assess", "canceled"],
    assess: ["authorize", "canceled"],
    authorize: ["scheduled", "new", "canceled"],
    scheduled: ["implement", "canceled"],
    implement: ["review"],
    review: ["closed"],
    closed: [],
    canceled: [],
  },
  // Pre-authorized: no assessment, no authorization.
  "change:standard": {
    new: ["scheduled", "canceled"],
    scheduled: ["implement", "canceled"],
    implement: ["review"],
    review: ["closed"],
    closed: [],
    canceled: [],
  },
  // Skips assessment, never authorization.
  "change:emergency": {
    new: ["authorize", "canceled"],
    authorize: ["scheduled", "new", "canceled"],
    scheduled: ["implement", "canceled"],
    implement: ["review"],
    review: ["closed"],
    closed: [],
    canceled: [],
  },
};

/** States in which a ticket is over: it leaves the open-tickets index and can no longer be edited. */
export const FINAL_STATES: readonly TicketState[] = ["closed", "canceled", "rejected"];
export const isFinal = (state: TicketState): boolean => FINAL_STATES.includes(state);

export const workflowOf = (type: TicketType, changeType?: ChangeType): Workflow =>
  type === "change" ? `change:${changeType ?? "normal"}` : type;

/** The states a workflow uses, in table order (the happy path first). */
export const statesOf = (workflow: Workflow): TicketState[] => Object.keys(TABLES[workflow]) as TicketState[];

/** The states a ticket in `from` may move to. */
export const allowedTransitions = (workflow: Workflow, from: TicketState): readonly TicketState[] => TABLES[workflow][from] ?? [];

export const canTransition = (workflow: Workflow, from: TicketState, to: TicketState): boolean =>
  allowedTransitions(workflow, from).includes(to);

/**
 * What a transition needs besides being allowed, checked by the ticket service:
 * - `hold_reason`: `reason` is one of the hold reasons;
 * - `resolution`: a resolution code of the type and resolution notes (incident), or a code (problem);
 * - `close_code`: a change's close code and close notes;
 * - `approval` / `rejection`: the actor has change authority; recorded as an approval.
 */
export type Guard = "hold_reason" | "resolution" | "close_code" | "approval" | "rejection";

export function guardOf(workflow: Workflow, from: TicketState, to: TicketState): Guard | undefined {
  if (to === "on_hold") return "hold_reason";
  if (to === "resolved" && (workflow === "incident" || workflow === "problem")) return "resolution";
  if (workflow.startsWith("change:")) {
    if (from === "review" && to === "closed") return "close_code";
    if (from === "authorize" && to === "scheduled") return "approval";
    if (from === "authorize" && to === "new") return "rejection";
  }
  return undefined;
}
