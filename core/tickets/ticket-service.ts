import { type DomainError, type FieldError, conflict, forbidden, invalidInput, isDomainError, notFound, quotaExceeded } from "../errors";
import { ID_PATTERN, newId } from "../ids";
import type { Principal } from "../auth/principal";
import type { ToolContext } from "../agents/tools";
import { type EventPublisher, eventsFor, noEvents } from "../realtime/events";
import { type Clock, periodOf, periodResetsAt, systemClock } from "../shared/clock";
import type { Organization } from "../tenants/organization.schema";
import type { OrganizationStore } from "../tenants/ports";
import { DEFAULT_TICKET_SETTINGS, createChangeAuthority } from "./change-authority";
import type {
  AgentDirectory,
  AssignmentGroupStore,
  ChangeAuthority,
  Page,
  PageRequest,
  TicketActor,
  TicketQuery,
  TicketRecord,
  TicketSettingsStore,
  TicketStore,
  TicketWrite,
} from "./ports";
import { priorityLabel, priorityOf } from "./priority";
import { type ClockName, clocksForState, hasSla, retarget, slaView, startClocks, unannouncedBreaches } from "./sla";
import { allowedTransitions, guardOf, isFinal, workflowOf } from "./state-machines";
import { GUARD_CHECKS, type NewEntry, RESOLUTION_CODES } from "./transition-guards";
import {
  NUMBER_PREFIX,
  TICKET_NUMBER_PATTERN,
  type CallerInputValue,
  type CallerRef,
  type CommentInput,
  type CreateTicketInput,
  type HistoryEntry,
  type LinkKind,
  type Priority,
  type Ticket,
  type TicketFilterInput,
  type TicketSettings,
  type TicketType,
  type TransitionInput,
  type UpdateTicketInput,
} from "./ticket.schema";

export interface TicketServiceDeps {
  store: TicketStore;
  orgs: OrganizationStore;
  settings: TicketSettingsStore;
  /** Ticket events for WebSocket subscribers; best effort. */
  events?: EventPublisher;
  /** Checks assignees and tells agents' roles and levels; without it any agent id is accepted. */
  agents?: AgentDirectory;
  /** Assignment groups: a ticket's group must exist, and an assignee set with one must be a member. */
  groups?: Pick<AssignmentGroupStore, "get">;
  /** Who may authorize changes; default: the organization's settings (change-authority.ts). */
  authority?: ChangeAuthority;
  clock?: Clock;
}

/** The ticket actor of an HTTP caller: tickets belong to an organization, so the operator key cannot act on them. */
export function ticketActorOf(principal: Principal): TicketActor {
  if (principal.kind !== "org") throw forbidden("Tickets belong to an organization: use one of its API keys.", "org_key_required");
  const actor = `key:${principal.keyId}`;
  return { kind: "person", orgId: principal.orgId, actor, name: principal.keyName ?? actor, keyId: principal.keyId };
}

/** The ticket actor of an agent calling a tool. */
export const agentActorOf = (context: ToolContext): TicketActor => ({
  kind: "agent",
  orgId: context.orgId,
  agentId: context.agentId,
  actor: context.actor || `agent:${context.agentId}`,
  name: context.actorName ?? (context.actor || `agent:${context.agentId}`),
});

/** The display name recorded next to an actor id. */
const nameOf = (actor: TicketActor): string => actor.name ?? actor.actor;

/**
 * A ticket's caller as a reference. Tickets written before references hold a string: the opener's
 * actor id (with its name in `callerName`) or free text; both read as a person of that name.
 */
export function callerOf(ticket: Pick<TicketRecord, "caller" | "callerName">): CallerRef {
  if (typeof ticket.caller !== "string") {
    // In a fixed key order: DynamoDB does not keep a map's order, and changes are compared as JSON.
    const { kind, id, name } = ticket.caller;
    return id === undefined ? { kind, name } : { kind, id, name };
  }
  const name = ticket.callerName ?? ticket.caller;
  return name === ticket.caller ? { kind: "person", name } : { kind: "person", id: ticket.caller, name };
}

/** The data of `ticket.breached` (and of the sweep's `ticket.at_risk`): what a subscriber needs to act. */
export function breachEventData(ticket: TicketRecord, clockName: ClockName): Record<string, unknown> {
  return {
    id: ticket.id,
    number: ticket.number,
    type: ticket.type,
    priority: ticket.priority,
    state: ticket.state,
    assignedTo: ticket.assignedTo,
    clock: clockName,
    targetMinutes: ticket.slaClocks[clockName]?.targetMinutes ?? null,
  };
}

/** Most links one ticket keeps (a problem may gather many incidents; the item must stay far below 400 KB). */
export const MAX_LINKS = 200;
/**
 * Attempts of a read-modify-write that keeps losing races with other writers of the same ticket. With
 * the backoff below (full jitter, doubling to RETRY_CAP_MS) they span a few seconds: enough for dozens
 * of concurrent comments on one ticket to all land, each re-decided on the state it applies to.
 */
const MAX_ATTEMPTS = 24;
const RETRY_CAP_MS = 250;

/** Fields that belong to one type only. */
const TYPE_FIELDS: Record<string, TicketType> = {
  changeType: "change",
  risk: "change",
  plannedStart: "change",
  plannedEnd: "change",
  knownError: "problem",
  workaround: "problem",
  rootCause: "problem",
};

/** Fields a PATCH compares and records (in this order in the history). */
const EDITABLE = [
  "title",
  "description",
  "caller",
  "category",
  "affectedService",
  "impact",
  "urgency",
  "priority",
  "assignedTo",
  "assignmentGroup",
  "resolutionCode",
  "resolutionNotes",
  "changeType",
  "approval",
  "risk",
  "plannedStart",
  "plannedEnd",
  "knownError",
  "workaround",
  "rootCause",
] as const;

/** A ticket's number: type prefix and 7 digits, starting at 1001 (`INC0001001`) like ServiceNow's. */
export const formatNumber = (type: TicketType, seq: number): string => `${NUMBER_PREFIX[type]}${String(1000 + seq).padStart(7, "0")}`;

/**
 * Closed means closed (ITIL; ServiceNow makes closed records read-only): a ticket in a final state
 * refuses every change, comments, work notes and links included, with 409 `ticket_closed`. Reading is
 * the one thing left; `allowedActions` says so to a client that wants to grey out its buttons.
 */
function refuseIfFinal(ticket: TicketRecord, action: "update" | "comment" | "link"): void {
  if (!isFinal(ticket.state)) return;
  throw conflict(`${ticket.number} is ${ticket.state} and can no longer be changed (no edits, comments, work notes or links); it can still be read.`, "ticket_closed", {
    number: ticket.number,
    state: ticket.state,
    action,
    allowedActions: ["read"],
  });
}

const article = (type: TicketType) => (type === "incident" ? "An incident" : `A ${type.replace("_", " ")}`);
/** How long a quota hint is trusted, the share of the limit under which it is, and how many are kept. */
const QUOTA_HINT_TTL_MS = 10_000;
const QUOTA_HINT_SHARE = 0.9;
const QUOTA_HINTS_MAX = 10_000;

const sameValue = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
/** A lost race worth re-deciding; an edit made on a version the caller named (`expectedVersion`) is not retried. */
const isConcurrentModification = (error: unknown): error is DomainError =>
  isDomainError(error) && error.code === "concurrent_modification" && !("expectedVersion" in error.details);

/**
 * ITSM tickets: creation under the monthly quota, ITIL workflows, SLA clocks, links, comments, and the
 * history of every change. Every operation acts for one organization (the actor's) and is written as a
 * conditional write on the ticket's version, retried when another writer got there first, so
 * concurrent transitions are each checked against the state they actually apply to.
 */
export function createTicketService(deps: TicketServiceDeps) {
  const { store, orgs, settings, agents, groups, clock = systemClock } = deps;
  const events = deps.events ?? noEvents;
  const authority = deps.authority ?? createChangeAuthority({ settings, ...(agents ? { agents } : {}) });

  async function load(orgId: string, ref: string): Promise<TicketRecord> {
    // Ids are case-insensitive ULIDs stored lowercase; numbers are stored uppercase.
    const ticket = ID_PATTERN.test(ref.toLowerCase())
      ? await store.get(orgId, ref.toLowerCase())
      : TICKET_NUMBER_PATTERN.test(ref)
        ? await store.getByNumber(orgId, ref.toUpperCase())
        : undefined;
    if (!ticket) throw notFound("Ticket", ref);
    return ticket;
  }

  async function organization(orgId: string) {
    const org = await orgs.get(orgId);
    if (!org) throw notFound("Organization", orgId);
    return org;
  }

  async function publish(type: string, orgId: string, data: Record<string, unknown>, to: EventPublisher = events): Promise<void> {
    try {
      await to.publish({ type, orgId, time: clock.now().toISOString(), data });
    } catch {
      // Best effort by contract: a subscriber that cannot be reached never undoes a ticket change.
    }
  }

  /**
   * The `ticket.updated` event of a change to `ticket` by `actor`: its id, number and type, the field
   * changes, who made them, and what else the change says (`extra`: a priority, a comment, triage).
   */
  function announceUpdate(actor: TicketActor, ticket: TicketRecord, changes: unknown[], extra: Record<string, unknown> = {}): Promise<void> {
    return publish("ticket.updated", actor.orgId, { id: ticket.id, number: ticket.number, type: ticket.type, ...extra, changes, actor: actor.actor, actorName: nameOf(actor) });
  }

  /**
   * What this warm instance last learned of an organization's ticket count this period. A create may
   * skip its quota read while the count is known to be far below the limit: the transaction's quota
   * condition still decides, and the read only exists so that a create refused at the limit burns no
   * ticket number. So a stale hint can cost at most a gap in the numbers, never a ticket over quota.
   */
  const quotaHints = new Map<string, { period: string; used: number; at: number }>();
  const rememberQuota = (orgId: string, hint: { period: string; used: number; at: number }) => {
    quotaHints.delete(orgId);
    quotaHints.set(orgId, hint);
    if (quotaHints.size > QUOTA_HINTS_MAX) quotaHints.delete(quotaHints.keys().next().value!);
  };
  /** The count to go by without reading, or undefined: fresh, this period, and under 90% of the limit. */
  function knownFarFromLimit(orgId: string, period: string, limit: number, now: number): number | undefined {
    const hint = quotaHints.get(orgId);
    if (!hint || hint.period !== period || now - hint.at > QUOTA_HINT_TTL_MS) return undefined;
    return hint.used < limit * QUOTA_HINT_SHARE ? hint.used : undefined;
  }

  /**
   * A ticket's first history entry, "created", from the ticket itself: storing it would repeat the
   * ticket's own insert (a write and an audit entry more for every ticket). The first priority and
   * assignee are the `from` of their first later change, else today's values.
   */
  function creationEntry(ticket: TicketRecord, later: readonly HistoryEntry[]): HistoryEntry {
    const first = (field: string, now: unknown) => {
      for (const entry of later) for (const change of entry.changes) if (change.field === field) return change.from;
      return now;
    };
    const assignee = first("assignedTo", ticket.assignedTo);
    const group = first("assignmentGroup", ticket.assignmentGroup ?? null);
    return {
      seq: 1,
      at: ticket.createdAt,
      actor: ticket.createdBy,
      actorName: ticket.createdByName ?? ticket.createdBy,
      action: "created",
      changes: [
        { field: "state", from: null, to: "new" },
        { field: "priority", from: null, to: first("priority", ticket.priority) },
        ...(assignee ? [{ field: "assignedTo", from: null, to: assignee }] : []),
        ...(group ? [{ field: "assignmentGroup", from: null, to: group }] : []),
      ],
    } as HistoryEntry;
  }

  /**
   * The caller reference to store: the acting key's person or agent when none is given, a string as a
   * person's name, an agent checked against the organization and named from it (400 on `caller.id`).
   */
  async function resolveCaller(actor: TicketActor, input: CallerInputValue | undefined, errors: FieldError[]): Promise<CallerRef> {
    if (input === undefined) {
      return actor.kind === "agent" ? { kind: "agent", id: actor.agentId, name: nameOf(actor) } : { kind: "person", id: actor.actor, name: nameOf(actor) };
    }
    if (typeof input === "string") return { kind: "person", name: input };
    if (input.kind === "person") return { kind: "person", ...(input.id ? { id: input.id } : {}), name: input.name };
    if (!agents) return { kind: "agent", id: input.id, name: input.name || input.id };
    const agent = await agents.find(actor.orgId, input.id);
    if (!agent) errors.push({ field: "caller.id", message: `no agent '${input.id}' in this organization` });
    return { kind: "agent", id: input.id, name: agent?.name ?? input.id };
  }

  async function checkAssignee(orgId: string, agentId: string | null | undefined, errors: FieldError[]) {
    if (!agentId || !agents) return;
    if (!(await agents.find(orgId, agentId))) errors.push({ field: "assignedTo", message: `no agent '${agentId}' in this organization` });
  }

  /**
   * The group a ticket ends up with must exist, and its assignee (if any) must be one of the group's
   * members: as in ServiceNow, "assigned to" is chosen from the assignment group. Missing group: 400
   * `validation_failed` on `assignmentGroup`; assignee outside the group: 400 `assignee_not_in_group`.
   */
  async function checkGroup(orgId: string, groupId: string | null, assignee: string | null, checkExists: boolean, errors: FieldError[]): Promise<void> {
    if (!groupId || !groups) return;
    const group = await groups.get(orgId, groupId);
    if (!group) {
      if (checkExists) errors.push({ field: "assignmentGroup", message: `no assignment group '${groupId}' in this organization` });
      return;
    }
    if (assignee && !group.members.includes(assignee)) {
      throw invalidInput(
        `The assignee ${assignee} is not a member of the assignment group '${group.name}'; assign a member, or change the group too.`,
        [{ field: "assignedTo", message: `not a member of assignment group '${group.name}'` }],
        "assignee_not_in_group",
      );
    }
  }

  function checkTypeFields(type: TicketType, input: Record<string, unknown>, errors: FieldError[]) {
    for (const [field, owner] of Object.entries(TYPE_FIELDS)) {
      if (input[field] !== undefined && owner !== type) errors.push({ field, message: `applies to ${owner}s only` });
    }
  }

  function checkPlannedWindow(start: string | null | undefined, end: string | null | undefined, errors: FieldError[]) {
    if (start && end && Date.parse(end) <= Date.parse(start)) errors.push({ field: "plannedEnd", message: "must be after plannedStart" });
  }

  /** Announces newly breached clocks once (the store's conditional write picks a single announcer). */
  async function announceBreaches(ticket: TicketRecord, now: Date): Promise<void> {
    for (const clockName of unannouncedBreaches(ticket.slaClocks, now, ticket.breachAnnounced)) {
      try {
        if (!(await store.announceBreach(ticket.orgId, ticket.id, clockName))) continue;
        ticket.breachAnnounced = [...ticket.breachAnnounced, clockName];
        await publish("ticket.breached", ticket.orgId, breachEventData(ticket, clockName));
      } catch {
        // Announcing is a side effect of reading: a failed announcement is retried by the next read.
      }
    }
  }

  function view(ticket: TicketRecord, now: Date): Ticket {
    const { orgId: _org, slaClocks, breachAnnounced: _announced, defaulted: _defaulted, ...fields } = ticket;
    const caller = callerOf(ticket);
    return {
      ...fields,
      caller,
      callerName: caller.name,
      // Tickets written before names were stored show the ids instead.
      assignmentGroup: ticket.assignmentGroup ?? null,
      createdByName: ticket.createdByName ?? ticket.createdBy,
      updatedByName: ticket.updatedByName ?? ticket.updatedBy,
      priorityLabel: priorityLabel(ticket.priority),
      sla: slaView(slaClocks, now),
    };
  }

  async function present(ticket: TicketRecord, now: Date): Promise<Ticket> {
    await announceBreaches(ticket, now);
    return view(ticket, now);
  }

  /** Stamps entries and the ticket for a save, keeping version = number of history entries. */
  function stamp(before: TicketRecord, after: TicketRecord, entries: NewEntry[], actor: TicketActor, now: Date): TicketWrite {
    const at = now.toISOString();
    const history = entries.map((entry, i) => ({ ...entry, seq: before.version + i + 1, at, actor: actor.actor, actorName: nameOf(actor) }));
    const queued = (t: TicketRecord) => (!isFinal(t.state) && t.assignmentGroup ? t.assignmentGroup : undefined);
    const [leave, join] = [queued(before), queued(after)];
    return {
      ticket: { ...after, updatedAt: at, updatedBy: actor.actor, updatedByName: nameOf(actor), version: before.version + entries.length },
      expectedVersion: before.version,
      history,
      ...(leave !== join ? { queue: { ...(leave ? { leave } : {}), ...(join ? { join } : {}) } } : {}),
    };
  }

  /** Runs a read-modify-write, re-reading and re-deciding when another writer changed the ticket meanwhile. */
  async function retrying<T>(work: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await work();
      } catch (error) {
        if (!isConcurrentModification(error) || attempt >= MAX_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(RETRY_CAP_MS, 5 * 2 ** attempt)));
      }
    }
  }

  /** One ticket's read-modify-write; `decide` returns the new record and its history, or undefined for no change. */
  async function mutate(
    actor: TicketActor,
    ref: string,
    decide: (ticket: TicketRecord, now: Date) => Promise<{ ticket: TicketRecord; entries: NewEntry[] } | undefined>,
  ): Promise<{ before: TicketRecord; write?: TicketWrite; now: Date }> {
    return retrying(async () => {
      const before = await load(actor.orgId, ref);
      const now = clock.now();
      const decided = await decide(before, now);
      if (!decided) return { before, now };
      const write = stamp(before, decided.ticket, decided.entries, actor, now);
      await store.save([write]);
      return { before, write, now };
    });
  }

  /** The effect of moving `ticket` to `input.to` at `now` through its workflow and guards (409 when not allowed). */
  async function decideTransition(ticket: TicketRecord, input: TransitionInput, actor: TicketActor, now: Date): Promise<{ ticket: TicketRecord; entries: NewEntry[] }> {
    const workflow = workflowOf(ticket.type, ticket.changeType);
    const allowed = allowedTransitions(workflow, ticket.state);
    if (!allowed.includes(input.to)) {
      throw conflict(
        `${article(ticket.type)}${ticket.type === "change" ? ` (${ticket.changeType})` : ""} cannot go from ${ticket.state} to ${input.to}; allowed from ${ticket.state}: ${allowed.length ? allowed.join(", ") : "none (it is final)"}.`,
        "invalid_transition",
        { number: ticket.number, from: ticket.state, to: input.to, allowed: [...allowed] },
      );
    }
    const at = now.toISOString();
    const next: TicketRecord = { ...ticket, state: input.to };
    const entries: NewEntry[] = [];
    const extra: { field: string; from: unknown; to: unknown }[] = [];
    const guard = guardOf(workflow, ticket.state, input.to);

    if (guard) {
      const effect = await GUARD_CHECKS[guard]({ ticket, input, actor, at, authority });
      Object.assign(next, effect.set);
      entries.push(...(effect.entries ?? []));
    }
    if (input.to === "authorize") {
      next.approval = "requested";
      extra.push({ field: "approval", from: ticket.approval ?? null, to: "requested" });
    }
    if (ticket.state === "on_hold") next.holdReason = null;
    if (ticket.state === "new" && !ticket.respondedAt) next.respondedAt = at;
    if (input.to === "resolved") next.resolvedAt = at;
    if (ticket.state === "resolved" && input.to === "in_progress") {
      // Reopened: the old resolution no longer holds; the history keeps it.
      next.resolvedAt = null;
      next.resolutionCode = null;
      next.resolutionNotes = null;
    }
    if (isFinal(input.to)) next.closedAt = at;
    next.slaClocks = clocksForState(ticket.slaClocks, input.to, now);

    for (const field of ["holdReason", "resolutionCode", "resolutionNotes"] as const) {
      if (!sameValue(ticket[field], next[field])) extra.push({ field, from: ticket[field], to: next[field] });
    }
    entries.push({
      action: "transitioned",
      changes: [{ field: "state", from: ticket.state, to: input.to }, ...extra],
      ...(input.reason ? { reason: input.reason } : {}),
      ...(input.note ? { note: input.note } : {}),
    });
    return { ticket: next, entries };
  }

  /** Publishes a transition that was written. */
  async function transitioned(actor: TicketActor, before: TicketRecord, after: TicketRecord, input: TransitionInput): Promise<void> {
    await publish("ticket.transitioned", actor.orgId, {
      id: after.id,
      number: after.number,
      type: after.type,
      priority: after.priority,
      from: before.state,
      to: after.state,
      ...(input.reason ? { reason: input.reason } : {}),
      actor: actor.actor,
      actorName: nameOf(actor),
    });
  }

  return {
    /**
     * Opens a ticket. The quota is checked twice: a read first (so a refused create burns no number),
     * then atomically with the write (so concurrent creates can never exceed it). Three round trips:
     * the reads together (assignee, quota, and the organization unless `known`, as the caller's
     * authentication read it), the number with the subscribers of `ticket.created`, the write. Two
     * when this instance knows the count is far from the limit and there is no assignee to check:
     * the quota read is skipped (`knownFarFromLimit`).
     */
    async create(actor: TicketActor, input: CreateTicketInput, known?: Organization): Promise<Ticket> {
      const errors: FieldError[] = [];
      checkTypeFields(input.type, input, errors);
      checkPlannedWindow(input.plannedStart, input.plannedEnd, errors);
      if (input.knownError === true && !input.workaround) errors.push({ field: "workaround", message: "a known error needs a workaround" });
      if (errors.length) throw invalidInput(`The ticket is invalid: ${errors.map((e) => e.field).join(", ")}.`, errors);

      const now = clock.now();
      const period = periodOf(now);
      const knownOrg = known?.id === actor.orgId ? known : undefined;
      const hinted = knownOrg && !input.assignedTo && !input.assignmentGroup ? knownFarFromLimit(actor.orgId, period, knownOrg.quotas.ticketsPerMonth, now.getTime()) : undefined;
      const [org, used] = await Promise.all([
        knownOrg ?? organization(actor.orgId),
        hinted ?? store.countInPeriod(actor.orgId, period),
        checkAssignee(actor.orgId, input.assignedTo, errors),
        checkGroup(actor.orgId, input.assignmentGroup ?? null, input.assignedTo ?? null, true, errors),
      ]);
      const caller = await resolveCaller(actor, input.caller, errors);
      if (hinted === undefined) rememberQuota(actor.orgId, { period, used, at: now.getTime() });
      if (errors.length) throw invalidInput(`The ticket is invalid: ${errors.map((e) => e.field).join(", ")}.`, errors);
      const limit = org.quotas.ticketsPerMonth;
      const refuse = () =>
        quotaExceeded(
          `The organization's quota of ${limit} tickets per month is used up; it resets at ${periodResetsAt(now)}.`,
          "ticket_quota_exceeded",
          { limit, period, resetsAt: periodResetsAt(now) },
        );
      if (used >= limit) throw refuse();

      const impact = input.impact ?? 3;
      const urgency = input.urgency ?? 3;
      const defaulted = [...(input.impact === undefined ? ["impact" as const] : []), ...(input.urgency === undefined ? ["urgency" as const] : [])];
      const priority = priorityOf(impact, urgency);
      const at = now.toISOString();
      // The subscribers of `ticket.created` are read alongside the number (not before the quota check: a
      // refused create should cost no more than it did).
      const audience = eventsFor(events, actor.orgId);
      const taken = await store.nextNumber(actor.orgId, input.type);
      const number = formatNumber(input.type, taken);
      const ticket: TicketRecord = {
        id: newId(),
        orgId: actor.orgId,
        number,
        type: input.type,
        title: input.title,
        description: input.description,
        caller,
        category: input.category ?? null,
        affectedService: input.affectedService ?? null,
        impact,
        urgency,
        priority,
        state: "new",
        holdReason: null,
        assignedTo: input.assignedTo ?? null,
        assignmentGroup: input.assignmentGroup ?? null,
        resolutionCode: null,
        resolutionNotes: null,
        ...(input.type === "change"
          ? {
              changeType: input.changeType ?? "normal",
              risk: input.risk ?? "moderate",
              approval: input.changeType === "standard" ? "not_required" : "not_requested",
              approvals: [],
              plannedStart: input.plannedStart ?? null,
              plannedEnd: input.plannedEnd ?? null,
            }
          : {}),
        ...(input.type === "problem" ? { knownError: input.knownError ?? false, workaround: input.workaround ?? null, rootCause: input.rootCause ?? null } : {}),
        links: [],
        slaClocks: startClocks(input.type, priority, org.tier, now),
        breachAnnounced: [],
        createdAt: at,
        createdBy: actor.actor,
        createdByName: nameOf(actor),
        updatedAt: at,
        updatedBy: actor.actor,
        updatedByName: nameOf(actor),
        respondedAt: null,
        resolvedAt: null,
        closedAt: null,
        ...(defaulted.length ? { defaulted } : {}),
        version: 1,
      };
      // No history item is written for the creation: the ticket says all of it (creationEntry).
      if ((await store.create(ticket, [], { period, limit })) === "quota_exceeded") {
        // Refused after all (a stale hint, or creates racing for the last ticket): the number goes back
        // unless a later one was taken meanwhile. Best effort: a gap in the numbers is all it can cost.
        quotaHints.delete(actor.orgId);
        await store.returnNumber(actor.orgId, input.type, taken).catch(() => false);
        throw refuse();
      }
      const hint = quotaHints.get(actor.orgId);
      if (hint?.period === period) hint.used += 1;
      await publish("ticket.created", actor.orgId, {
        id: ticket.id,
        number,
        type: ticket.type,
        title: ticket.title,
        priority,
        state: ticket.state,
        assignedTo: ticket.assignedTo,
        assignmentGroup: ticket.assignmentGroup,
        actor: actor.actor,
      }, audience);
      return view(ticket, now);
    },

    /** One ticket by id or number, with its history. */
    async get(actor: TicketActor, ref: string): Promise<Ticket & { history: HistoryEntry[] }> {
      const ticket = await load(actor.orgId, ref);
      const stored = await store.history(actor.orgId, ticket.id);
      // The stored entries reach back to the creation (entry 2, or none yet): it goes first. Tickets
      // created before the creation stopped being stored have it stored as entry 1.
      const history = (stored[0]?.seq ?? 2) === 2 ? [creationEntry(ticket, stored), ...stored] : stored;
      return { ...(await present(ticket, clock.now())), history };
    },

    /**
     * A page of tickets, newest first. SLA filters (breached, at risk) are evaluated at the current
     * time; a selective filter can give short or empty pages that still have a cursor.
     */
    async list(actor: TicketActor, filters: TicketFilterInput, page: PageRequest): Promise<Page<Ticket>> {
      const now = clock.now();
      const breached = filters.breached === undefined ? undefined : filters.breached === "true";
      const atRisk = filters.at_risk === undefined ? undefined : filters.at_risk === "true";
      let active = filters.active === undefined ? undefined : filters.active === "true";
      // Only open tickets have running clocks, and an open state implies an open ticket: both can be
      // served by the (smaller) open-tickets index.
      // A group's queue is its open tickets, read from the open-tickets index (filtered by group).
      if (active === undefined && (atRisk === true || filters.assignmentGroup !== undefined || (filters.state !== undefined && !isFinal(filters.state)))) active = true;
      const query: TicketQuery = {
        ...(filters.type ? { type: filters.type } : {}),
        ...(filters.state ? { state: filters.state } : {}),
        ...(filters.priority !== undefined ? { priority: filters.priority } : {}),
        ...(filters.assignee ? { assignee: filters.assignee } : {}),
        ...(filters.assignmentGroup ? { assignmentGroup: filters.assignmentGroup } : {}),
        ...(filters.category ? { category: filters.category } : {}),
        ...(filters.service ? { service: filters.service } : {}),
        ...(filters.known_error ? { knownError: filters.known_error === "true" } : {}),
        ...(active !== undefined ? { active } : {}),
        ...(filters.q ? { words: filters.q.toLowerCase().split(/\s+/).filter(Boolean).slice(0, 5) } : {}),
        ...(breached !== undefined || atRisk !== undefined
          ? {
              accept: (ticket: TicketRecord) => {
                const sla = slaView(ticket.slaClocks, now);
                return (breached === undefined || sla.breached === breached) && (atRisk === undefined || sla.atRisk === atRisk);
              },
            }
          : {}),
      };
      const result = await store.list(actor.orgId, query, page);
      const items = await Promise.all(result.items.map((ticket) => present(ticket, now)));
      return result.cursor ? { items, cursor: result.cursor } : { items };
    },

    /** Changes fields (not the state: that is `transition`). Priority follows impact and urgency. */
    async update(actor: TicketActor, ref: string, input: UpdateTicketInput): Promise<Ticket> {
      const { version: expectedVersion, ...fields } = input;
      const { before, write, now } = await mutate(actor, ref, async (ticket) => {
        refuseIfFinal(ticket, "update");
        if (expectedVersion !== undefined && expectedVersion !== ticket.version) {
          throw conflict(`${ticket.number} was changed since version ${expectedVersion} (it is at ${ticket.version}); read it again and redo the edit.`, "concurrent_modification", {
            number: ticket.number,
            expectedVersion,
            version: ticket.version,
          });
        }
        const errors: FieldError[] = [];
        checkTypeFields(ticket.type, input, errors);
        if (input.changeType !== undefined && input.changeType !== ticket.changeType && ticket.state !== "new") {
          throw conflict(`The change type of ${ticket.number} can only change while it is new.`, "change_type_locked", { state: ticket.state });
        }
        if (input.resolutionCode) {
          const codes = RESOLUTION_CODES[ticket.type] ?? [];
          if (!codes.includes(input.resolutionCode)) errors.push({ field: "resolutionCode", message: codes.length ? `must be one of ${codes.join(", ")}` : `${ticket.type}s have no resolution code` });
        }
        if (input.knownError === true && !(input.workaround ?? ticket.workaround)) errors.push({ field: "workaround", message: "a known error needs a workaround" });
        checkPlannedWindow(input.plannedStart === undefined ? ticket.plannedStart : input.plannedStart, input.plannedEnd === undefined ? ticket.plannedEnd : input.plannedEnd, errors);
        if (input.assignedTo !== ticket.assignedTo) await checkAssignee(actor.orgId, input.assignedTo, errors);
        if (input.assignedTo !== undefined || input.assignmentGroup !== undefined) {
          const group = input.assignmentGroup === undefined ? (ticket.assignmentGroup ?? null) : input.assignmentGroup;
          const assignee = input.assignedTo === undefined ? ticket.assignedTo : input.assignedTo;
          await checkGroup(actor.orgId, group, assignee, group !== (ticket.assignmentGroup ?? null), errors);
        }
        const caller = input.caller === undefined ? undefined : await resolveCaller(actor, input.caller, errors);
        if (errors.length) throw invalidInput(`The update is invalid: ${errors.map((e) => e.field).join(", ")}.`, errors);

        const next: TicketRecord = { ...ticket };
        const assign = next as unknown as Record<string, unknown>;
        for (const [field, value] of Object.entries(fields)) if (value !== undefined) assign[field] = value;
        if (caller) {
          // The reference replaces a string caller and its separate name.
          next.caller = caller;
          delete next.callerName;
        }
        // A level someone set is theirs: triage no longer fills it.
        if (ticket.defaulted?.length) next.defaulted = ticket.defaulted.filter((field) => input[field] === undefined);
        next.priority = priorityOf(next.impact, next.urgency);
        if (next.priority !== ticket.priority) next.slaClocks = retarget(ticket.slaClocks, next.priority as Priority, (await organization(actor.orgId)).tier);
        if (input.changeType !== undefined && input.changeType !== ticket.changeType) next.approval = input.changeType === "standard" ? "not_required" : "not_requested";

        // A caller compares (and is recorded) as a reference, also where a string was stored.
        const valueOf = (t: TicketRecord, field: (typeof EDITABLE)[number]) => (field === "caller" ? callerOf(t) : t[field]);
        const changes = EDITABLE.filter((field) => !sameValue(valueOf(ticket, field), valueOf(next, field))).map((field) => ({
          field,
          from: valueOf(ticket, field) ?? null,
          to: valueOf(next, field) ?? null,
        }));
        if (!changes.length) return undefined;
        return { ticket: next, entries: [{ action: "updated", changes }] };
      });
      if (!write) return present(before, now);
      await announceUpdate(actor, write.ticket, write.history.flatMap((h) => h.changes), { priority: write.ticket.priority });
      return present(write.ticket, now);
    },

    /** Moves a ticket along its workflow; anything the workflow does not allow is a 409 listing what it does. */
    async transition(actor: TicketActor, ref: string, input: TransitionInput): Promise<Ticket> {
      const { before, write, now } = await mutate(actor, ref, (ticket, now) => decideTransition(ticket, input, actor, now));
      const after = write!.ticket;
      await transitioned(actor, before, after, input);
      return present(after, now);
    },

    /**
     * Closes a resolved ticket with an SLA (an incident) that is still resolved since before
     * `resolvedBefore` (the SLA sweep's auto-close), through the same workflow and guards as any
     * transition and conditional on the ticket's version: a ticket reopened or closed meanwhile is
     * left alone (false).
     */
    async closeResolved(actor: TicketActor, id: string, { resolvedBefore, note }: { resolvedBefore: Date; note: string }): Promise<boolean> {
      const input: TransitionInput = { to: "closed", note };
      const { before, write } = await mutate(actor, id, async (ticket, now) => {
        if (!hasSla(ticket.type) || ticket.state !== "resolved" || !ticket.resolvedAt || Date.parse(ticket.resolvedAt) >= resolvedBefore.getTime()) return undefined;
        return decideTransition(ticket, input, actor, now);
      });
      if (!write) return false;
      await transitioned(actor, before, write.ticket, input);
      return true;
    },

    /** Adds a comment (visible to the caller) or a work note (internal) to the ticket's activity. */
    async comment(actor: TicketActor, ref: string, input: CommentInput): Promise<HistoryEntry> {
      const { write } = await mutate(actor, ref, async (ticket) => {
        refuseIfFinal(ticket, "comment");
        return { ticket, entries: [{ action: "commented", changes: [], note: input.text, visibility: input.visibility }] };
      });
      const entry = write!.history[0]!;
      await announceUpdate(actor, write!.ticket, [], { comment: { seq: entry.seq, visibility: input.visibility } });
      return entry;
    },

    /**
     * Links two tickets, both ways, in one transaction: incident <-> problem, incident or problem <->
     * change (the fix), service request -> request item. The kind follows from the two types.
     */
    async link(actor: TicketActor, ref: string, otherRef: string, { as }: { as?: "duplicate" } = {}): Promise<Ticket> {
      const outcome = await retrying(async () => {
        const a = await load(actor.orgId, ref);
        const b = await load(actor.orgId, otherRef);
        const now = clock.now();
        if (a.id === b.id) throw invalidInput("A ticket cannot be linked to itself.", [{ field: "ticket", message: "must be another ticket" }], "invalid_link");
        // Duplicates are found by triage (same type); the API's links are the ones the types imply.
        const kinds: [LinkKind, LinkKind] | undefined = as === "duplicate" ? (a.type === b.type ? ["duplicate_of", "duplicate"] : undefined) : linkKinds(a.type, b.type);
        if (!kinds) {
          throw invalidInput(
            `${article(a.type)} cannot be linked to ${article(b.type).toLowerCase()}: links are incident-problem, incident-change, problem-change and request-request item.`,
            [{ field: "ticket", message: `cannot link ${a.type} to ${b.type}` }],
            "invalid_link",
          );
        }
        // Both tickets get a link and a history entry, so both must still be open.
        refuseIfFinal(a, "link");
        refuseIfFinal(b, "link");
        const [kindOnA, kindOnB] = kinds;
        if (a.links.some((l) => l.id === b.id && l.kind === kindOnA)) return { ticket: a, now, changed: false };
        if (kindOnB === "parent_request" && b.links.some((l) => l.kind === "parent_request")) {
          throw conflict(`${b.number} is already a request item of another request.`, "already_linked");
        }
        if (a.links.length >= MAX_LINKS || b.links.length >= MAX_LINKS) throw conflict(`A ticket keeps at most ${MAX_LINKS} links.`, "too_many_links");
        const onA = { kind: kindOnA, id: b.id, number: b.number };
        const onB = { kind: kindOnB, id: a.id, number: a.number };
        const writeA = stamp(a, { ...a, links: [...a.links, onA] }, [{ action: "linked", changes: [{ field: "links", from: null, to: onA }], link: onA }], actor, now);
        const writeB = stamp(b, { ...b, links: [...b.links, onB] }, [{ action: "linked", changes: [{ field: "links", from: null, to: onB }], link: onB }], actor, now);
        await store.save([writeA, writeB]);
        return { ticket: writeA.ticket, other: writeB.ticket, now, changed: true };
      });
      if (outcome.changed && outcome.other) {
        await announceUpdate(actor, outcome.ticket, [{ field: "links", from: null, to: outcome.ticket.links.at(-1) }]);
      }
      return present(outcome.ticket, outcome.now);
    },

    /**
     * Triage by the organization's ITSM agent (core/tickets/triage.ts), once per ticket: `decide` sees
     * the ticket as it is now (re-read on every attempt, so a field someone set meanwhile is not
     * overwritten) and returns the fields to set and the work note that explains them. One
     * conditional write: the fields, `triagedAt`/`triagedBy` and the work note. A ticket already
     * triaged, or ended, is left alone (`applied: false`), so a redelivered trigger triages once.
     */
    async applyTriage(
      actor: TicketActor,
      ref: string,
      decide: (ticket: TicketRecord) => { set: Partial<Pick<TicketRecord, "impact" | "urgency" | "category" | "assignedTo">>; note: string },
    ): Promise<{ applied: boolean; ticket: TicketRecord }> {
      const { before, write } = await mutate(actor, ref, async (ticket, now) => {
        if (ticket.triagedAt || isFinal(ticket.state)) return undefined;
        const { set, note } = decide(ticket);
        const next: TicketRecord = { ...ticket, ...set, triagedAt: now.toISOString(), triagedBy: actor.actor };
        if (ticket.defaulted?.length) next.defaulted = ticket.defaulted.filter((field) => set[field] === undefined);
        next.priority = priorityOf(next.impact, next.urgency);
        if (next.priority !== ticket.priority) next.slaClocks = retarget(ticket.slaClocks, next.priority as Priority, (await organization(actor.orgId)).tier);
        const changes = EDITABLE.filter((field) => !sameValue(ticket[field], next[field])).map((field) => ({ field, from: ticket[field] ?? null, to: next[field] ?? null }));
        const entries: NewEntry[] = [
          ...(changes.length ? [{ action: "updated" as const, changes }] : []),
          { action: "commented", changes: [], note, visibility: "work_note" },
        ];
        return { ticket: next, entries };
      });
      if (!write) return { applied: false, ticket: before };
      await announceUpdate(actor, write.ticket, write.history.flatMap((h) => h.changes), { priority: write.ticket.priority, triaged: true });
      return { applied: true, ticket: write.ticket };
    },

    async getSettings(actor: TicketActor): Promise<TicketSettings> {
      return (await settings.get(actor.orgId)) ?? DEFAULT_TICKET_SETTINGS;
    },

    async putSettings(actor: TicketActor, input: TicketSettings): Promise<TicketSettings> {
      await settings.put(actor.orgId, input, actor.actor);
      return input;
    },
  };
}

export type TicketService = ReturnType<typeof createTicketService>;

/** The link kinds recorded on (a, b) when a is linked to b, or undefined if the types do not link. */
export function linkKinds(a: TicketType, b: TicketType): [LinkKind, LinkKind] | undefined {
  if (a === "incident" && b === "problem") return ["problem", "incident"];
  if (a === "problem" && b === "incident") return ["incident", "problem"];
  if ((a === "incident" || a === "problem") && b === "change") return ["change", a];
  if (a === "change" && (b === "incident" || b === "problem")) return [b, "change"];
  if (a === "service_request" && b === "service_request") return ["request_item", "parent_request"];
  return undefined;
}
