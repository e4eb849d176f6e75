import type { Page, PageRequest } from "../tenants/ports";
import type { SlaClocks, SlaMark } from "./sla";
import type {
  Approval,
  CallerRef,
  ApprovalState,
  ChangeRisk,
  ChangeType,
  HistoryEntry,
  HoldReason,
  TicketLink,
  TicketSettings,
  TicketState,
  TicketType,
} from "./ticket.schema";

/**
 * Who acts on a ticket. People act through an organization API key (`key:<keyId>`), agents through
 * their tools (`agent:<agentId>`). `actor` is what history and `updatedBy` record; `name` (the key's or
 * the agent's name, as the caller already knows it) is stored next to it, so reads show names without
 * looking anything up. Without a name the id stands in.
 */
export type TicketActor =
  | { kind: "person"; orgId: string; actor: string; name?: string; keyId?: string }
  | { kind: "agent"; orgId: string; actor: string; name?: string; agentId: string };

/** A ticket as stored. The API view adds the computed SLA (`sla`) and the priority label. */
export interface TicketRecord {
  id: string;
  orgId: string;
  number: string;
  type: TicketType;
  title: string;
  description: string;
  /**
   * The caller as a reference. Tickets written before references hold a string (the opener's actor
   * id, or free text) with `callerName` next to it; the service reads those as a person.
   */
  caller: CallerRef | string;
  /** Only on tickets whose caller is a string: its display name. */
  callerName?: string;
  category: string | null;
  affectedService: string | null;
  impact: number;
  urgency: number;
  priority: number;
  state: TicketState;
  holdReason: HoldReason | null;
  assignedTo: string | null;
  /** The assignment group (an id of core/tickets/assignment-group.schema.ts); absent on tickets written before groups. */
  assignmentGroup?: string | null;
  resolutionCode: string | null;
  resolutionNotes: string | null;
  // changes
  changeType?: ChangeType;
  risk?: ChangeRisk;
  approval?: ApprovalState;
  approvals?: Approval[];
  plannedStart?: string | null;
  plannedEnd?: string | null;
  // problems
  knownError?: boolean;
  workaround?: string | null;
  rootCause?: string | null;
  links: TicketLink[];
  slaClocks: SlaClocks;
  /**
   * What was announced of the SLA clocks, each once: a clock's name when its breach was announced
   * (`ticket.breached` published), `at_risk:<clock>` and `escalated:<clock>` by the SLA sweep
   * (core/tickets/sla-sweep.ts). Written only by `announceBreach`.
   */
  breachAnnounced: SlaMark[];
  createdAt: string;
  createdBy: string;
  /** Display names of createdBy and updatedBy, stored with them (absent on tickets written before names). */
  createdByName?: string;
  updatedAt: string;
  updatedBy: string;
  updatedByName?: string;
  respondedAt: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  /**
   * Fields the creator left out, whose stored value is the default (impact, urgency): triage may set
   * them; a field set by anyone (the creator, a PATCH, triage) leaves the list. Not in the API view.
   */
  defaulted?: ("impact" | "urgency")[];
  /** When the organization's ITSM agent triaged it, and which agent (core/tickets/triage.ts): set once. */
  triagedAt?: string;
  triagedBy?: string;
  /** The number of history entries; every save is conditional on it (optimistic concurrency). */
  version: number;
}

/**
 * A ticket's move between group queues: the group whose open tickets it leaves, the one it joins. The
 * store counts each group's open tickets in the same transaction as the ticket (a group with open
 * tickets cannot be deleted), and the join is conditional on the group existing.
 */
export interface QueueMove {
  leave?: string;
  join?: string;
}

/** One ticket's write: its new state and the history entries that explain it, expected at `expectedVersion`. */
export interface TicketWrite {
  ticket: TicketRecord;
  expectedVersion: number;
  history: HistoryEntry[];
  queue?: QueueMove;
}

/** Filters the store can apply; `accept` is for what only the domain can compute (SLA breach at `now`). */
export interface TicketQuery {
  type?: TicketType;
  state?: TicketState;
  priority?: number;
  /** An agent id, or "none" for unassigned. */
  assignee?: string;
  /** An assignment group id. */
  assignmentGroup?: string;
  category?: string;
  service?: string;
  knownError?: boolean;
  /** true: open tickets only (read from the open-tickets index); false: closed, canceled or rejected only. */
  active?: boolean;
  /** Lowercase words that must all appear in the ticket's search text. */
  words?: string[];
  accept?: (ticket: TicketRecord) => boolean;
}

export type CreateOutcome = "created" | "quota_exceeded";

/** Persistence of tickets (adapter: core/db/ticket.repository.ts). */
export interface TicketStore {
  /** The next number of a type in the organization (1, 2, ...), from an atomic counter. */
  nextNumber(orgId: string, type: TicketType): Promise<number>;
  /**
   * Gives a number back that a refused create took, if no later number was taken since (then it
   * stays a gap). False when it could not be given back.
   */
  returnNumber(orgId: string, type: TicketType, taken: number): Promise<boolean>;
  /** Tickets opened in a period so far (the quota counter). */
  countInPeriod(orgId: string, period: string): Promise<number>;
  /**
   * Stores a new ticket, its number and the history entries given (none: the creation is told by the
   * ticket itself), and counts it against the period's quota, all or nothing: `quota_exceeded` (nothing written) when `limit` tickets exist already.
   */
  create(ticket: TicketRecord, history: HistoryEntry[], quota: { period: string; limit: number }): Promise<CreateOutcome>;
  get(orgId: string, id: string): Promise<TicketRecord | undefined>;
  getByNumber(orgId: string, number: string): Promise<TicketRecord | undefined>;
  /** History, oldest first (the most recent `max` entries when there are more). */
  history(orgId: string, id: string, max?: number): Promise<HistoryEntry[]>;
  /**
   * Saves one or two tickets with their history in one transaction. Fails with a `conflict` of code
   * `concurrent_modification` when a ticket's version is not the expected one.
   */
  save(writes: TicketWrite[]): Promise<void>;
  /** Newest first. Pages may hold fewer than `limit` items (even none) and still have a cursor. */
  list(orgId: string, query: TicketQuery, page: PageRequest): Promise<Page<TicketRecord>>;
  /** Records a mark (a clock's breach announced, at risk, escalated); true only for the one caller that recorded it. */
  announceBreach(orgId: string, id: string, mark: SlaMark): Promise<boolean>;
}

export interface TicketSettingsStore {
  get(orgId: string): Promise<TicketSettings | undefined>;
  put(orgId: string, settings: TicketSettings, actor: string): Promise<void>;
}

/** What the ticket domain needs to know about an agent (adapter: the agent registry, when it exists). */
export interface AgentInfo {
  id: string;
  /** The agent's display name. */
  name?: string;
  roleId: string;
  /** 1 = CEO ... 5 = specialist. */
  level: number;
}

export interface AgentDirectory {
  /** The agent of the organization, or undefined if it has no such agent. */
  find(orgId: string, agentId: string): Promise<AgentInfo | undefined>;
}

/**
 * Who may authorize (approve or reject) a change. The default (change-authority.ts) reads the
 * organization's ticket settings and the agent directory; another policy (a CAB, delegation through
 * the hierarchy) can replace it without touching the ticket service.
 */
export interface ChangeAuthority {
  mayAuthorize(actor: TicketActor): Promise<boolean>;
}

/** An assignment group as stored (core/db/assignment-group.repository.ts). */
export interface AssignmentGroupRecord {
  id: string;
  name: string;
  description: string;
  members: string[];
  manager: string | null;
  /** Open tickets in the group's queue: kept by the ticket store's transactions, never by the group's own writes. */
  openTickets: number;
  createdAt: string;
  createdBy: string;
  updatedAt: string;
  updatedBy: string;
  version: number;
}

/** The outcome of a conditional write of a group. */
export type GroupWriteOutcome = "ok" | "missing" | "concurrent_modification" | "in_use";

/** Persistence of assignment groups. */
export interface AssignmentGroupStore {
  create(orgId: string, group: AssignmentGroupRecord): Promise<void>;
  get(orgId: string, id: string): Promise<AssignmentGroupRecord | undefined>;
  /** By id (creation order). */
  list(orgId: string, page: PageRequest): Promise<Page<AssignmentGroupRecord>>;
  /** Writes the group's own fields at `expectedVersion` + 1 (never `openTickets`). */
  save(orgId: string, group: AssignmentGroupRecord, expectedVersion: number): Promise<GroupWriteOutcome>;
  /** Deletes the group unless it has open tickets (`in_use`). */
  remove(orgId: string, id: string): Promise<GroupWriteOutcome>;
}

export type { Page, PageRequest };
