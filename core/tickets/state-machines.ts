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
    // Resolving straight from hold, as ServiceNow allows (the vendor's fix arrived while waiting).
    on_hold: ["in_progress", "resolved", "canceled"],
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
 * What a transition needs besides being allowed, checked by the ticket service (transition-guards.ts):
 * - `hold_reason`: `reason` is one of the hold reasons;
 * - `resolution`: a resolution code of the type and resolution notes (incident), or a code (problem);
 * - `close_code`: a change's close code and close notes;
 * - `approval` / `rejection`: the actor has change authority; recorded as an approval.
 */
export type Guard = "hold_reason" | "resolution" | "close_code" | "approval" | "rejection";

const CHANGE_WORKFLOWS: readonly Workflow[] = ["change:normal", "change:standard", "change:emergency"];

/** One rule of the guard table: the transitions of these workflows into `to` (from `from` only, if given). */
interface GuardRule {
  workflows: "any" | readonly Workflow[];
  from?: TicketState;
  to: TicketState;
  guard: Guard;
}

/**
 * Which transitions are guarded, as data beside the transition tables (first matching rule wins). A
 * transition no rule names needs nothing beyond being allowed.
 */
export const GUARDS: readonly GuardRule[] = [
  { workflows: "any", to: "on_hold", guard: "hold_reason" },
  // From in_progress or straight from on_hold: the same resolution code and notes either way.
  { workflows: ["incident", "problem"], to: "resolved", guard: "resolution" },
  { workflows: CHANGE_WORKFLOWS, from: "review", to: "closed", guard: "close_code" },
  { workflows: CHANGE_WORKFLOWS, from: "authorize", to: "scheduled", guard: "approval" },
  { workflows: CHANGE_WORKFLOWS, from: "authorize", to: "new", guard: "rejection" },
];

/** The guard of a transition, if any (whether the transition is allowed at all is `canTransition`). */
export function guardOf(workflow: Workflow, from: TicketState, to: TicketState): Guard | undefined {
  return GUARDS.find((rule) => rule.to === to && (rule.from === undefined || rule.from === from) && (rule.workflows === "any" || rule.workflows.includes(workflow)))?.guard;
}
