import { z } from "../shared/zod";
import { ID_PATTERN } from "../ids";
import { idSchema } from "../shared/id.schema";

/**
 * ITSM tickets (ITIL 4 practices as ServiceNow users know them): the vocabulary, the request bodies and
 * the public shape of a ticket. Names follow ServiceNow's fields in camelCase (`short_description` ->
 * `title`, `assigned_to` -> `assignedTo`, `close_code` -> `resolutionCode`, `cmdb_ci` -> `affectedService`).
 */

export const TICKET_TYPES = ["incident", "service_request", "change", "problem"] as const;
export type TicketType = (typeof TICKET_TYPES)[number];

/** Number prefixes, as in ServiceNow: INC0001001, REQ..., CHG..., PRB... */
export const NUMBER_PREFIX: Record<TicketType, string> = {
  incident: "INC",
  service_request: "REQ",
  change: "CHG",
  problem: "PRB",
};

/** Every state of every type; which ones a type uses is in state-machines.ts. */
export const TICKET_STATES = [
  "new",
  "in_progress",
  "on_hold",
  "resolved",
  "closed",
  "canceled",
  "assess",
  "authorize",
  "scheduled",
  "implement",
  "review",
  "root_cause_analysis",
  "fix_in_progress",
  "approved",
  "fulfilling",
  "rejected",
] as const;
export type TicketState = (typeof TICKET_STATES)[number];

export const HOLD_REASONS = ["awaiting_caller", "awaiting_change", "awaiting_problem", "awaiting_vendor"] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

/** Incident resolution codes (ServiceNow `close_code`). */
export const INCIDENT_RESOLUTION_CODES = [
  "solved_permanently",
  "solved_workaround",
  "solved_remotely",
  "resolved_by_problem",
  "resolved_by_change",
  "not_reproducible",
  "too_costly",
  "duplicate",
  "canceled_by_caller",
] as const;
export const PROBLEM_RESOLUTION_CODES = ["fix_applied", "risk_accepted", "duplicate", "canceled"] as const;
export const CHANGE_CLOSE_CODES = ["successful", "successful_with_issues", "unsuccessful"] as const;

export const CHANGE_TYPES = ["normal", "standard", "emergency"] as const;
export type ChangeType = (typeof CHANGE_TYPES)[number];
export const CHANGE_RISKS = ["very_high", "high", "moderate", "low"] as const;
export type ChangeRisk = (typeof CHANGE_RISKS)[number];
/** `not_required`: standard changes are pre-authorized. */
export const APPROVAL_STATES = ["not_required", "not_requested", "requested", "approved", "rejected"] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/**
 * Link kinds, named by what the other ticket is to this one: an incident's `problem` is the problem
 * behind it (the problem lists it as an `incident`); a problem's or incident's `change` is the change
 * that fixes it (the change lists it as `problem` or `incident`); a service request's `request_item` is
 * a request item under it (which lists it as `parent_request`). A likely duplicate found by triage
 * (core/tickets/triage.ts) lists the older ticket as `duplicate_of`, which lists it as `duplicate`.
 */
export const LINK_KINDS = ["problem", "incident", "change", "request_item", "parent_request", "duplicate_of", "duplicate"] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

export const PRIORITY_LABELS = { 1: "Critical", 2: "High", 3: "Moderate", 4: "Low", 5: "Planning" } as const;
export type Priority = keyof typeof PRIORITY_LABELS;

/** A ticket id (ULID) or its number (`INC0001001`; case-insensitive). */
export const TICKET_NUMBER_PATTERN = /^(INC|REQ|CHG|PRB)\d{7,}$/i;
export const TicketRef = z
  .string()
  .max(40)
  .refine((value) => ID_PATTERN.test(value.toLowerCase()) || TICKET_NUMBER_PATTERN.test(value), "must be a ticket id or number (INC0001001)")
  .meta({ description: "A ticket id or its number (INC0001001)" });

const Level = z.number().int().min(1).max(3);
const text = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`);
const AgentId = idSchema("must be an agent id");
const GroupId = idSchema("must be an assignment group id");
const IsoTime = z.iso.datetime({ offset: true });

/**
 * The caller (ServiceNow `caller_id`): who reported or requested it, as a reference. A person is a
 * name (or email) with an optional id of the requester's own (an HR number, `key:<id>`); an agent is
 * an agent of the organization, named from the agent registry. A plain string is a person's name.
 */
export const CALLER_KINDS = ["person", "agent"] as const;
export type CallerKind = (typeof CALLER_KINDS)[number];
const PersonCaller = z.strictObject({
  kind: z.literal("person"),
  id: text(120).min(1, "must not be empty").optional().meta({ description: "An id of the person's, if any (employee number, email, key:<id>)" }),
  name: text(120).min(1, "must not be empty").meta({ description: "The person's name or email" }),
});
const AgentCaller = z.strictObject({
  kind: z.literal("agent"),
  id: AgentId.meta({ description: "An agent of the organization" }),
  name: text(120).optional().meta({ description: "Ignored: the agent's name is taken from the agent" }),
});
export const CallerInput = z
  .union([text(120).min(1, "must not be empty"), z.discriminatedUnion("kind", [PersonCaller, AgentCaller])])
  .meta({
    id: "CallerInput",
    description: "Who reported or requested it: a person's name (a string), {kind: person, name, id?} or {kind: agent, id}; default: the caller of this API",
  });
export const CallerRef = z
  .object({ kind: z.enum(CALLER_KINDS), id: z.string().optional(), name: z.string() })
  .meta({ id: "CallerRef", description: "Who reported or requested it: a person (name, optional id) or an agent (its id and name)" });
export type CallerRef = z.infer<typeof CallerRef>;
export type CallerInputValue = z.infer<typeof CallerInput>;

export const CreateTicketBody = z
  .strictObject({
    type: z.enum(TICKET_TYPES),
    title: text(160).min(1, "must not be empty").meta({ description: "Short description" }),
    description: text(20_000).default(""),
    caller: CallerInput.optional(),
    category: text(80).optional(),
    affectedService: text(120).optional().meta({ description: "The affected business service or configuration item" }),
    // Optional rather than defaulted here: the service applies the default (3) and remembers that it
    // did, so triage (core/tickets/triage.ts) may fill what the caller left out and never what it set.
    impact: Level.optional().meta({ default: 3, description: "1 = widespread (many users or a business service), 3 = one user; omitted: 3, and the ITSM agent's triage may set it" }),
    urgency: Level.optional().meta({ default: 3, description: "1 = work has stopped, 3 = can wait; omitted: 3, and the ITSM agent's triage may set it" }),
    assignedTo: AgentId.optional().meta({ description: "The agent assigned to it (a member of assignmentGroup when both are given)" }),
    assignmentGroup: GroupId.optional().meta({ description: "The assignment group (team) it is assigned to" }),
    changeType: z.enum(CHANGE_TYPES).optional().meta({ description: "Changes only (default normal)" }),
    risk: z.enum(CHANGE_RISKS).optional().meta({ description: "Changes only (default moderate)" }),
    plannedStart: IsoTime.optional().meta({ description: "Changes only" }),
    plannedEnd: IsoTime.optional().meta({ description: "Changes only" }),
    rootCause: text(4000).optional().meta({ description: "Problems only" }),
    workaround: text(4000).optional().meta({ description: "Problems only" }),
    knownError: z.boolean().optional().meta({ description: "Problems only: opens it as a known error (needs a workaround)" }),
  })
  .meta({ id: "CreateTicket" });

export const UpdateTicketBody = z
  .strictObject({
    title: text(160).min(1, "must not be empty").optional(),
    description: text(20_000).optional(),
    caller: CallerInput.optional(),
    category: text(80).nullable().optional(),
    affectedService: text(120).nullable().optional(),
    impact: Level.optional(),
    urgency: Level.optional(),
    assignedTo: AgentId.nullable().optional().meta({ description: "An agent id, or null to unassign; must be a member of the ticket's assignment group" }),
    assignmentGroup: GroupId.nullable().optional().meta({ description: "An assignment group id, or null for none" }),
    resolutionCode: text(40).nullable().optional().meta({ description: "Checked against the type's codes" }),
    resolutionNotes: text(4000).nullable().optional(),
    changeType: z.enum(CHANGE_TYPES).optional().meta({ description: "Changes only, while new" }),
    risk: z.enum(CHANGE_RISKS).optional(),
    plannedStart: IsoTime.nullable().optional(),
    plannedEnd: IsoTime.nullable().optional(),
    knownError: z.boolean().optional().meta({ description: "Problems only: marks a known error (needs a workaround)" }),
    workaround: text(4000).nullable().optional(),
    rootCause: text(4000).nullable().optional(),
    version: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: "The version the edit was made on: 409 `concurrent_modification` (with the current `version`) when the ticket changed since; without it the edit applies to the latest version" }),
  })
  .refine((body) => Object.keys(body).some((key) => key !== "version"), { message: "at least one field must be given" })
  .meta({ id: "UpdateTicket" });

export const TransitionBody = z
  .strictObject({
    to: z.enum(TICKET_STATES),
    reason: text(200)
      .min(1)
      .optional()
      .meta({
        description:
          "on_hold: the hold reason (awaiting_caller|awaiting_change|awaiting_problem|awaiting_vendor); resolved (incident, problem) and closed (change): the resolution / close code; otherwise free text",
      }),
    note: text(4000)
      .min(1)
      .optional()
      .meta({ description: "Work note; when resolving (or closing a change): the resolution notes" }),
  })
  .meta({ id: "TicketTransition" });

export const CommentBody = z
  .strictObject({
    text: text(20_000).min(1, "must not be empty"),
    visibility: z.enum(["comment", "work_note"]).default("comment").meta({ description: "comment: visible to the caller; work_note: internal" }),
  })
  .meta({ id: "TicketComment" });

export const LinkBody = z
  .strictObject({ ticket: TicketRef.meta({ description: "The ticket to link; the link kind follows from both types" }) })
  .meta({ id: "LinkTicket" });

const Flag = z.enum(["true", "false"]);
/** List filters; every one is optional and they combine with AND. */
export const TicketFilters = z.object({
  type: z.enum(TICKET_TYPES).optional(),
  state: z.enum(TICKET_STATES).optional(),
  priority: z.coerce.number().int().min(1).max(5).optional(),
  assignee: z.union([AgentId, z.literal("none")]).optional().meta({ description: "An agent id, or none for unassigned" }),
  assignmentGroup: GroupId.optional().meta({ description: "The group's queue: its open tickets (unless active=false is given)" }),
  category: z.string().max(80).optional(),
  service: z.string().max(120).optional().meta({ description: "Affected service" }),
  active: Flag.optional().meta({ description: "true: not closed, canceled or rejected" }),
  breached: Flag.optional().meta({ description: "true: a response or resolution SLA has been breached" }),
  at_risk: Flag.optional().meta({ description: "true: a running SLA is past 75% of its target and not yet breached" }),
  known_error: Flag.optional().meta({ description: "Problems marked known error" }),
  q: z.string().trim().min(1).max(100).optional().meta({ description: "Words in the number, title, description, category or service" }),
});

export const TicketLink = z
  .object({ kind: z.enum(LINK_KINDS), id: z.string(), number: z.string() })
  .meta({ id: "TicketLink", description: "A linked ticket: what it is to this one (kind), its id and its number" });

export const HistoryEntry = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string().meta({ description: "Who made the change: key:<id>, agent:<id>" }),
    actorName: z.string().meta({ description: "The actor's display name: the key's or the agent's name (the id for entries written before names)" }),
    action: z.enum(["created", "updated", "transitioned", "commented", "linked", "approved", "rejected"]),
    changes: z.array(z.object({ field: z.string(), from: z.unknown(), to: z.unknown() })),
    reason: z.string().optional(),
    note: z.string().optional(),
    visibility: z.enum(["comment", "work_note"]).optional(),
    link: TicketLink.optional().meta({ description: "linked: the ticket it was linked to (its id and number), as in changes[0].to" }),
  })
  .meta({ id: "TicketHistoryEntry" });

export const SlaClock = z
  .object({
    targetMinutes: z.number().int(),
    status: z.enum(["running", "paused", "stopped"]).meta({ description: "paused: on hold; stopped: met (response) or resolved, closed, canceled" }),
    elapsedSeconds: z.number().int(),
    remainingSeconds: z.number().int().meta({ description: "Time to breach; negative once breached" }),
    dueAt: z.string().nullable().meta({ description: "When it breaches if it keeps running; null unless running" }),
    percent: z.number().meta({ description: "Elapsed share of the target, in percent" }),
    breached: z.boolean(),
  })
  .meta({ id: "SlaClock" });

export const TicketSla = z
  .object({
    response: SlaClock.nullable(),
    resolution: SlaClock.nullable(),
    breached: z.boolean(),
    atRisk: z.boolean(),
    timeToBreachSeconds: z.number().int().nullable().meta({ description: "Least time to breach among running clocks" }),
  })
  .meta({ id: "TicketSla" });

export const Approval = z.object({
  approver: z.string(),
  approverName: z.string().optional(),
  approverKind: z.enum(["person", "agent"]),
  decision: z.enum(["approved", "rejected"]),
  comment: z.string().optional(),
  at: z.string(),
});

export const Ticket = z
  .object({
    id: z.string(),
    number: z.string(),
    type: z.enum(TICKET_TYPES),
    title: z.string(),
    description: z.string(),
    caller: CallerRef,
    callerName: z.string().meta({ description: "The caller's display name (caller.name)" }),
    category: z.string().nullable(),
    affectedService: z.string().nullable(),
    impact: z.number().int(),
    urgency: z.number().int(),
    priority: z.number().int(),
    priorityLabel: z.string(),
    state: z.enum(TICKET_STATES),
    holdReason: z.enum(HOLD_REASONS).nullable(),
    assignedTo: z.string().nullable(),
    assignmentGroup: z.string().nullable().meta({ description: "The assignment group's id" }),
    resolutionCode: z.string().nullable(),
    resolutionNotes: z.string().nullable(),
    changeType: z.enum(CHANGE_TYPES).optional(),
    risk: z.enum(CHANGE_RISKS).optional(),
    approval: z.enum(APPROVAL_STATES).optional(),
    approvals: z.array(Approval).optional(),
    plannedStart: z.string().nullable().optional(),
    plannedEnd: z.string().nullable().optional(),
    knownError: z.boolean().optional(),
    workaround: z.string().nullable().optional(),
    rootCause: z.string().nullable().optional(),
    links: z.array(TicketLink),
    sla: TicketSla,
    createdAt: z.string(),
    createdBy: z.string(),
    createdByName: z.string().meta({ description: "Display name of createdBy: the key's or the agent's name" }),
    updatedAt: z.string(),
    updatedBy: z.string(),
    updatedByName: z.string().meta({ description: "Display name of updatedBy" }),
    respondedAt: z.string().nullable(),
    resolvedAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    triagedAt: z.string().optional().meta({ description: "When the organization's ITSM agent triaged it (on creation; absent: not triaged)" }),
    triagedBy: z.string().optional().meta({ description: "The agent that triaged it (agent:<id>)" }),
    version: z.number().int(),
    history: z.array(HistoryEntry).optional().meta({ description: "Every change, oldest first (single-ticket reads)" }),
  })
  .meta({ id: "Ticket" });

export const ChangeAuthoritySettings = z
  .strictObject({
    keyHolders: z.boolean().default(true).meta({ description: "Any holder of an organization API key may authorize changes" }),
    keyIds: z.array(idSchema("must be an API key id")).max(100).default([]).meta({ description: "API keys that may, when keyHolders is false" }),
    roles: z.array(z.string().min(1).max(64)).max(50).default(["change-manager"]).meta({ description: "Agent roles that may" }),
    agentIds: z.array(idSchema("must be an agent id")).max(100).default([]).meta({ description: "Agents that may, whatever their role" }),
    maxLevel: z.number().int().min(1).max(5).nullable().default(3).meta({ description: "Agents at this level or above (1 = CEO) may; null: none by level" }),
  })
  .meta({ id: "ChangeAuthority" });

/** Days a resolved incident stays resolved before the SLA sweep closes it. */
export const DEFAULT_AUTO_CLOSE_DAYS = 7;

export const TicketSettings = z
  .strictObject({
    changeAuthority: ChangeAuthoritySettings.prefault({}),
    autoCloseDays: z
      .number()
      .int()
      .min(0)
      .max(365)
      .default(DEFAULT_AUTO_CLOSE_DAYS)
      .meta({ description: "Resolved incidents are closed by the SLA sweep after this many days (0: never), as ServiceNow does" }),
  })
  .meta({ id: "TicketSettings" });

export type CreateTicketInput = z.infer<typeof CreateTicketBody>;
export type UpdateTicketInput = z.infer<typeof UpdateTicketBody>;
export type TransitionInput = z.infer<typeof TransitionBody>;
export type CommentInput = z.infer<typeof CommentBody>;
export type TicketFilterInput = z.infer<typeof TicketFilters>;
export type HistoryEntry = z.infer<typeof HistoryEntry>;
export type SlaClockView = z.infer<typeof SlaClock>;
export type TicketSlaView = z.infer<typeof TicketSla>;
export type Approval = z.infer<typeof Approval>;
export type TicketLink = z.infer<typeof TicketLink>;
export type Ticket = z.infer<typeof Ticket>;
export type TicketSettings = z.infer<typeof TicketSettings>;
export type ChangeAuthoritySettings = z.infer<typeof ChangeAuthoritySettings>;
