/**
 * Every key shape of the table, in one place. No other module builds a key.
 *
 * Tenant items: `pk` starts with `T#<orgId>`, which makes isolation checkable (and enforceable later
 * with an IAM `dynamodb:LeadingKeys` condition). Items that belong to no tenant are platform items
 * (`P#...`).
 */
export interface Key {
  pk: string;
  sk: string;
}

const tenant = (orgId: string) => `T#${orgId}`;

export const keys = {
  tenantPk: tenant,

  /** The organization itself. Listed for the operator through gsi1 (`ORGS`, sorted by id = creation). */
  organization: (orgId: string): Key => ({ pk: tenant(orgId), sk: "ORG" }),
  organizationIndex: (orgId: string) => ({ gsi1pk: "ORGS", gsi1sk: orgId }),
  organizationsPartition: "ORGS",

  /** An API key record: looked up by (orgId, keyId), both parsed from the presented key. */
  apiKey: (orgId: string, keyId: string): Key => ({ pk: tenant(orgId), sk: `KEY#${keyId}` }),
  apiKeyPrefix: "KEY#",

  /** Monthly usage counters (queries, tokens, cost, tickets) of one period `YYYY-MM`. */
  usage: (orgId: string, period: string): Key => ({ pk: tenant(orgId), sk: `USAGE#${period}` }),
  /**
   * The month's spend of one API key with a monthly budget of its own (committed spend, open
   * reservations). Keys without a budget have none. A period's items of an organization share a prefix.
   */
  keyUsage: (orgId: string, period: string, keyId: string): Key => ({ pk: tenant(orgId), sk: `KEYUSAGE#${period}#${keyId}` }),
  keyUsagePrefix: (period: string) => `KEYUSAGE#${period}#`,

  /** A query's routing decision and cost record, newest last by id (ULID). */
  usageRecord: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `REC#${id}` }),
  usageRecordPrefix: "REC#",

  /**
   * A tenant's feedback on one completion, keyed by its cost record's id (one feedback per completion,
   * a second replaces it). `FEEDBACK#` sorts by the completion's time (ULID), newest last.
   */
  routingFeedback: (orgId: string, recordId: string): Key => ({ pk: tenant(orgId), sk: `FEEDBACK#${recordId}` }),
  routingFeedbackPrefix: "FEEDBACK#",

  /** Routing settings of an organization (override, calibration). */
  routingSettings: (orgId: string): Key => ({ pk: tenant(orgId), sk: "SETTINGS#routing" }),

  /** Custom roles (built-in ones live in code). */
  role: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `ROLE#${id}` }),
  rolePrefix: "ROLE#",

  /** Agents, their conversation memory, and the organization's single root marker. */
  agent: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `AGENT#${id}` }),
  agentPrefix: "AGENT#",
  agentMemory: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `AGENTMEM#${id}` }),
  agentRoot: (orgId: string): Key => ({ pk: tenant(orgId), sk: "AGENTROOT" }),
  agentRun: (orgId: string, agentId: string, runId: string): Key => ({ pk: tenant(orgId), sk: `RUN#${agentId}#${runId}` }),
  agentRunPrefix: (agentId: string) => `RUN#${agentId}#`,
  /** The version of the organization's hierarchy: structural changes are serialized on it. */
  hierarchy: (orgId: string): Key => ({ pk: tenant(orgId), sk: "HIERARCHY" }),

  /** A message in its recipient's inbox (ids sort by time), and the inbox's queued counter. */
  message: (orgId: string, agentId: string, id: string): Key => ({ pk: tenant(orgId), sk: `MSG#${agentId}#${id}` }),
  inboxPrefix: (agentId: string) => `MSG#${agentId}#`,
  inbox: (orgId: string, agentId: string): Key => ({ pk: tenant(orgId), sk: `INBOX#${agentId}` }),
  /** A message that asks for work, as the work queue tracks it (ids sort by time: newest last). */
  task: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `TASK#${id}` }),
  taskPrefix: "TASK#",
  /** The organization's work limits, its running-task count, and its work per UTC day (`YYYY-MM-DD`). */
  workSettings: (orgId: string): Key => ({ pk: tenant(orgId), sk: "SETTINGS#work" }),
  workRunning: (orgId: string): Key => ({ pk: tenant(orgId), sk: "WORK#RUNNING" }),
  workDay: (orgId: string, day: string): Key => ({ pk: tenant(orgId), sk: `WORK#DAY#${day}` }),
  inboxesPrefix: "INBOX#",

  /** A short-lived WebSocket token (looked up by id, verified by hash, expires by TTL and by time). */
  wsToken: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `WSTOKEN#${id}` }),

  /** A purged organization's tombstone: a platform item (no tenant prefix), so it outlives the purge. */
  purged: (orgId: string): Key => ({ pk: "P#PURGED", sk: `ORG#${orgId}` }),

  /**
   * A rate limiter's bucket (core/ratelimit): `org`, `key#<keyId>`, `chat-rpm`, `chat-tpm`. Each bucket
   * is its own partition under the tenant's prefix, so limiter writes (one per admitted request) never
   * share a partition with the tenant's data, with another bucket or with another tenant; no key is
   * shared by all tenants. Expires by TTL once full again; purge finds it as a `T#<orgId>#` partition.
   */
  rateWindow: (orgId: string, bucket: string): Key => ({ pk: `${tenant(orgId)}#RL#${bucket}`, sk: "RL" }),

  /** A key that never holds an item: /health reads it to prove the table answers. */
  healthProbe: { pk: "P#HEALTH", sk: "PING" } as Key,

  /** Quota counters that are not per period (agents alive). */
  counter: (orgId: string, name: string): Key => ({ pk: tenant(orgId), sk: `COUNTER#${name}` }),

  /**
   * A WebSocket connection of a tenant. `$disconnect` and route events only carry the connection id,
   * hence the gsi1 lookup by id.
   */
  connection: (orgId: string, connectionId: string): Key => ({ pk: tenant(orgId), sk: `CONN#${connectionId}` }),
  connectionIndex: (connectionId: string) => ({ gsi1pk: `CONN#${connectionId}`, gsi1sk: "CONN" }),
  connectionPrefix: "CONN#",

  /**
   * Tickets (core/tickets). `TICKET#<id>` sorts by creation (ULID), so `begins_with(sk, "TICKET#")`
   * read backwards lists newest first; `TICKETH#`, `TICKETNO#` are not prefixes of it, so that query
   * sees tickets only.
   */
  ticket: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `TICKET#${id}` }),
  ticketPrefix: "TICKET#",
  /**
   * Open tickets (not closed, canceled or rejected) in gsi1, newest first. A sparse index: a ticket
   * leaves it when it ends, so the daily queues (open, at risk, by state) read only open tickets.
   */
  ticketOpenIndex: (orgId: string, id: string) => ({ gsi1pk: `T#${orgId}#TICKETS#OPEN`, gsi1sk: `TICKET#${id}` }),
  ticketOpenPartition: (orgId: string) => `T#${orgId}#TICKETS#OPEN`,
  /** History entry `seq` of a ticket: separate items, so the ticket item stays small whatever its history. */
  ticketHistory: (orgId: string, id: string, seq: number): Key => ({ pk: tenant(orgId), sk: `TICKETH#${id}#${String(seq).padStart(8, "0")}` }),
  ticketHistoryPrefix: (id: string) => `TICKETH#${id}#`,
  /** A ticket number (`INC0001001`) -> its id; written with the ticket, so a number can never be taken twice. */
  ticketNumber: (orgId: string, number: string): Key => ({ pk: tenant(orgId), sk: `TICKETNO#${number}` }),
  /** The per-organization, per-type number sequence (`INC`, `REQ`, `CHG`, `PRB`). */
  ticketNumberCounter: (orgId: string, prefix: string): Key => ({ pk: tenant(orgId), sk: `COUNTER#ticket-number#${prefix}` }),
  /**
   * An assignment group (a team of agents tickets are assigned to), sorted by id (ULID = creation).
   * `AGROUP#` is no prefix of another sort key. Its queue is read from the open-tickets index above.
   */
  assignmentGroup: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `AGROUP#${id}` }),
  assignmentGroupPrefix: "AGROUP#",
  /** Ticket settings of an organization (change authority). */
  ticketSettings: (orgId: string): Key => ({ pk: tenant(orgId), sk: "SETTINGS#tickets" }),

  /**
   * An approval request (core/approvals): an agent's tool call waiting for a person's decision. Ids
   * are ULIDs, so `begins_with(sk, "APPROVAL#")` read backwards lists newest first.
   */
  approval: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `APPROVAL#${id}` }),
  approvalPrefix: "APPROVAL#",

  /**
   * The audit log (core/audit, docs/audit-operations.md). Entries and checkpoints are numbered by
   * `seq`, zero-padded to 12 digits so that the sort key order is the seq order. `AUDIT#` is not a
   * prefix of `AUDITCP#`, `AUDITSRC#` or `AUDITHEAD`, so one `begins_with` finds exactly the entries.
   */
  auditEntry: (orgId: string, seq: number): Key => ({ pk: tenant(orgId), sk: `AUDIT#${auditSeq(seq)}` }),
  auditEntryPrefix: "AUDIT#",
  /** The chain head of a tenant: the conditional write on it serializes appends. */
  auditHead: (orgId: string): Key => ({ pk: tenant(orgId), sk: "AUDITHEAD" }),
  auditCheckpoint: (orgId: string, seq: number): Key => ({ pk: tenant(orgId), sk: `AUDITCP#${auditSeq(seq)}` }),
  auditCheckpointPrefix: "AUDITCP#",
  /** "Stream record <eventId> is in the log": written with the entry, so a redelivered record is skipped. */
  auditSource: (orgId: string, eventId: string): Key => ({ pk: tenant(orgId), sk: `AUDITSRC#${eventId}` }),
  /**
   * "Stream record <eventId> of this tenant is known but not in the log yet": written when an append
   * fails, so `verify` can report the gap until a retry or a redrive closes it (`AUDITPEND#` is not
   * `AUDIT#`-prefixed, so entry queries never see it).
   */
  auditPending: (orgId: string, eventId: string): Key => ({ pk: tenant(orgId), sk: `AUDITPEND#${eventId}` }),
  auditPendingPrefix: "AUDITPEND#",
  /**
   * A range of a stream shard a consumer lost (the stream no longer held it when its failure queue was
   * redriven): a platform item, since nobody can say any more whose changes the range held.
   */
  streamLoss: (consumer: string, shardId: string, startSequenceNumber: string): Key => ({
    pk: "P#STREAMLOSS",
    sk: `LOSS#${consumer}#${shardId}#${startSequenceNumber}`,
  }),
  streamLossPartition: "P#STREAMLOSS",
  streamLossPrefix: (consumer: string) => `LOSS#${consumer}#`,
  /** Public halves of the checkpoint signing keys (a platform item: no tenant owns them). */
  auditKey: (keyId: string): Key => ({ pk: "P#AUDIT", sk: `KEY#${keyId}` }),
  auditKeysPartition: "P#AUDIT",
  auditKeyPrefix: "KEY#",
} as const;

/** Digits of an audit seq in a sort key: enough for a trillion entries per tenant. */
export const AUDIT_SEQ_DIGITS = 12;
function auditSeq(seq: number): string {
  return String(seq).padStart(AUDIT_SEQ_DIGITS, "0");
}
