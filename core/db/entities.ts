import { keys, type Key } from "./keys";
import type { IndexName } from "./table";

/**
 * The entity registry: every item type written to the table, declared once (in the spirit of
 * ElectroDB's entity schemas). Each declaration names the item's `entity` attribute, its key shape
 * (builders from core/db/keys.ts, which stays the only module that spells a key, plus the patterns
 * every stored key of the type matches), the indexes it is written to, the attributes that exist for
 * the table's sake (stripped before the domain sees the item), and how the audit log treats it.
 *
 * Derived from it: the repositories' `entity` names (`entities.ticket.name`), the domain view of an
 * item (`entities.ticket.fromItem`), the audit summarizer's type lists (core/audit/summarize.ts), the
 * audit consumer's stream filter (functions/manifest/audit.ts), and the list in
 * docs/audit-log-format.md section 3.1 (test/unit/db/entities.test.ts compares them). The integration
 * tests check every item they leave in the table against it (test/support/platform.ts).
 */

/**
 * How the audit log treats an item type's changes:
 * - `recorded`: every change becomes an entry, summarized as its changed non-bookkeeping attributes
 *   with secrets redacted (docs/audit-log-format.md 3.2); the same rule for every recorded type.
 * - `noise`: high-churn technical items or derived state that duplicates recorded facts (`why` says which).
 * - `own`: the audit log's own items; auditing them would make every append produce another.
 * - `platform`: an item of no tenant (`pk` not `T#...`), which the log cannot attribute to anyone.
 */
export type AuditTreatment = "recorded" | "noise" | "own" | "platform";

/** Attributes that exist for the table's sake on most items, not the entity's. */
export const TABLE_ATTRIBUTES = ["pk", "sk", "gsi1pk", "gsi1sk", "ttl", "entity", "updatedBy"] as const;

type KeyBuilders = Record<string, ((...args: never[]) => Key | Record<string, string> | string) | Key | string>;

export interface EntityDeclaration {
  /** The item's `entity` attribute. */
  name: string;
  /** What one item is, for the reader (and the format doc). */
  description: string;
  /** `tenant`: `pk` is `T#<orgId>` or `T#<orgId>#...`; `platform`: an item of no tenant (`P#...`). */
  scope: "tenant" | "platform";
  /** The key builders of the type (all from core/db/keys.ts). */
  keys: KeyBuilders;
  /** What every stored key of the type looks like; an item whose key does not match is reported. */
  shape: { pk: RegExp; sk: RegExp };
  /** Global secondary indexes the type's items are written to. */
  indexes?: readonly IndexName[];
  /** Attributes stripped before the domain sees an item; default TABLE_ATTRIBUTES. */
  tableOnly?: readonly string[];
  /** Whether items expire by TTL (`ttl` attribute). */
  expires?: boolean;
  audit: AuditTreatment;
  /** For `noise`: why its changes say nothing the log does not already hold. */
  why?: string;
}

export interface Entity<D extends EntityDeclaration = EntityDeclaration> {
  readonly name: D["name"];
  readonly declaration: D;
  /** `{ entity: name }`, to spread into an item. */
  readonly stamp: { entity: D["name"] };
  /** The item without its table-only attributes (undefined stays undefined). */
  fromItem<T>(item: Record<string, unknown> | undefined): T | undefined;
}

function define<const D extends EntityDeclaration>(declaration: D): Entity<D> {
  const tableOnly = new Set<string>(declaration.tableOnly ?? TABLE_ATTRIBUTES);
  return {
    name: declaration.name,
    declaration,
    stamp: { entity: declaration.name },
    fromItem<T>(item: Record<string, unknown> | undefined): T | undefined {
      if (!item) return undefined;
      const out: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(item)) if (!tableOnly.has(name)) out[name] = value;
      return out as T;
    },
  };
}

const TENANT = /^T#[^#]+$/;

export const entities = {
  organization: define({
    name: "organization",
    description: "an organization (tenant): name, tier, quotas, rate-limit override",
    scope: "tenant",
    keys: { item: keys.organization, index: keys.organizationIndex },
    shape: { pk: TENANT, sk: /^ORG$/ },
    indexes: ["gsi1"],
    // `orgId` duplicates `id` for the tenant-wide item conventions.
    tableOnly: [...TABLE_ATTRIBUTES, "orgId"],
    audit: "recorded",
  }),
  apiKey: define({
    name: "apiKey",
    description: "an API key record (its secret only as a hash)",
    scope: "tenant",
    keys: { item: keys.apiKey, prefix: keys.apiKeyPrefix },
    shape: { pk: TENANT, sk: /^KEY#/ },
    audit: "recorded",
  }),
  usage: define({
    name: "usage",
    description: "a month's usage counters: queries, tokens, cost, committed budget, tickets",
    scope: "tenant",
    keys: { item: keys.usage },
    shape: { pk: TENANT, sk: /^USAGE#\d{4}-\d{2}$/ },
    audit: "noise",
    why: "counts what the cost records and tickets, which are recorded, already say; its budget reservations live for one query",
  }),
  keyUsage: define({
    name: "keyUsage",
    description: "a month's spend of one API key that has a monthly budget of its own: committed spend, open reservations",
    scope: "tenant",
    keys: { item: keys.keyUsage },
    shape: { pk: TENANT, sk: /^KEYUSAGE#\d{4}-\d{2}#[0-9a-z]{26}$/ },
    audit: "noise",
    why: "sums the cost records of the key's queries, which are recorded; its budget reservations live for one query",
  }),
  costRecord: define({
    name: "costRecord",
    description: "one query's routing decision and cost",
    scope: "tenant",
    keys: { item: keys.usageRecord, prefix: keys.usageRecordPrefix },
    shape: { pk: TENANT, sk: /^REC#/ },
    expires: true,
    audit: "recorded",
  }),
  routingFeedback: define({
    name: "routingFeedback",
    description: "an organization's feedback on one completion (rating, needed the large model) with the decision it rates",
    scope: "tenant",
    keys: { item: keys.routingFeedback, prefix: keys.routingFeedbackPrefix },
    shape: { pk: TENANT, sk: /^FEEDBACK#/ },
    // `verdict` fingerprints rating, flag and comment, so an identical resubmission writes nothing.
    // `updatedBy` stays: who gave the feedback is part of it.
    tableOnly: ["pk", "sk", "ttl", "entity", "verdict"],
    expires: true,
    audit: "recorded",
  }),
  settings: define({
    name: "settings",
    description: "an organization's routing or ticket settings",
    scope: "tenant",
    keys: { routing: keys.routingSettings, tickets: keys.ticketSettings },
    shape: { pk: TENANT, sk: /^SETTINGS#(routing|tickets)$/ },
    audit: "recorded",
  }),
  role: define({
    name: "role",
    description: "a custom role",
    scope: "tenant",
    keys: { item: keys.role, prefix: keys.rolePrefix },
    shape: { pk: TENANT, sk: /^ROLE#/ },
    // `holders` counts the agents holding the role, for the conditional delete; not the API's.
    tableOnly: [...TABLE_ATTRIBUTES, "holders", "orgId"],
    audit: "recorded",
  }),
  agent: define({
    name: "agent",
    description: "an agent of the hierarchy",
    scope: "tenant",
    keys: { item: keys.agent, prefix: keys.agentPrefix },
    shape: { pk: TENANT, sk: /^AGENT#/ },
    audit: "recorded",
  }),
  agentRoot: define({
    name: "agentRoot",
    description: "the marker of the organization's single root agent",
    scope: "tenant",
    keys: { item: keys.agentRoot },
    shape: { pk: TENANT, sk: /^AGENTROOT$/ },
    audit: "recorded",
  }),
  agentRun: define({
    name: "agentRun",
    description: "one run of an agent (its turn: tools called, outcome)",
    scope: "tenant",
    keys: { item: keys.agentRun },
    shape: { pk: TENANT, sk: /^RUN#[^#]+#/ },
    expires: true,
    audit: "recorded",
  }),
  agentMemory: define({
    name: "agentMemory",
    description: "an agent's conversation memory",
    scope: "tenant",
    keys: { item: keys.agentMemory },
    shape: { pk: TENANT, sk: /^AGENTMEM#/ },
    audit: "noise",
    why: "rewritten on every turn; the agent runs are recorded",
  }),
  hierarchyVersion: define({
    name: "hierarchyVersion",
    description: "the version of the hierarchy that serializes structural changes",
    scope: "tenant",
    keys: { item: keys.hierarchy },
    shape: { pk: TENANT, sk: /^HIERARCHY$/ },
    audit: "noise",
    why: "bumped by every structural change of agents, which are recorded",
  }),
  message: define({
    name: "message",
    description: "a message in an agent's inbox",
    scope: "tenant",
    keys: { item: keys.message, prefix: keys.inboxPrefix },
    shape: { pk: TENANT, sk: /^MSG#[^#]+#/ },
    audit: "recorded",
  }),
  inbox: define({
    name: "inbox",
    description: "an inbox's count of queued messages",
    scope: "tenant",
    keys: { item: keys.inbox, prefix: keys.inboxesPrefix },
    shape: { pk: TENANT, sk: /^INBOX#/ },
    audit: "noise",
    why: "counts the messages, which are recorded",
  }),
  task: define({
    name: "task",
    description: "a message that asks its recipient agent for work, as the work queue tracks it",
    scope: "tenant",
    keys: { item: keys.task, prefix: keys.taskPrefix },
    shape: { pk: TENANT, sk: /^TASK#/ },
    audit: "noise",
    why: "its status is mirrored on the message, which is recorded; leases and attempts are bookkeeping",
  }),
  workSettings: define({
    name: "workSettings",
    description: "an organization's limits on autonomous work",
    scope: "tenant",
    keys: { item: keys.workSettings },
    shape: { pk: TENANT, sk: /^SETTINGS#work$/ },
    audit: "recorded",
  }),
  workCounter: define({
    name: "workCounter",
    description: "an organization's running tasks, or its tasks and cost of one day",
    scope: "tenant",
    keys: { running: keys.workRunning, day: keys.workDay },
    shape: { pk: TENANT, sk: /^WORK#(RUNNING|DAY#\d{4}-\d{2}-\d{2})$/ },
    expires: true,
    audit: "noise",
    why: "counts tasks, whose messages are recorded",
  }),
  counter: define({
    name: "counter",
    description: "a quota or sequence counter (agents alive, ticket numbers per type)",
    scope: "tenant",
    keys: { item: keys.counter, ticketNumbers: keys.ticketNumberCounter },
    shape: { pk: TENANT, sk: /^COUNTER#/ },
    audit: "noise",
    why: "counts agents and numbers tickets, which are recorded",
  }),
  ticket: define({
    name: "ticket",
    description: "an ITSM ticket (incident, request, change, problem)",
    scope: "tenant",
    keys: { item: keys.ticket, prefix: keys.ticketPrefix, openIndex: keys.ticketOpenIndex },
    shape: { pk: TENANT, sk: /^TICKET#/ },
    indexes: ["gsi1"],
    // `searchText` is the `q` filter's lowercased copy of the searchable fields. A ticket keeps its
    // `updatedBy` and has no `ttl`, so only the key, index and type attributes go.
    tableOnly: ["pk", "sk", "gsi1pk", "gsi1sk", "entity", "searchText"],
    audit: "recorded",
  }),
  ticketHistory: define({
    name: "ticketHistory",
    description: "one entry of a ticket's history",
    scope: "tenant",
    keys: { item: keys.ticketHistory, prefix: keys.ticketHistoryPrefix },
    shape: { pk: TENANT, sk: /^TICKETH#[^#]+#\d{8}$/ },
    audit: "recorded",
  }),
  ticketNumber: define({
    name: "ticketNumber",
    description: "a ticket number's claim (number -> ticket id)",
    scope: "tenant",
    keys: { item: keys.ticketNumber },
    shape: { pk: TENANT, sk: /^TICKETNO#/ },
    audit: "noise",
    why: "the ticket's number, which the recorded ticket holds",
  }),
  wsToken: define({
    name: "wsToken",
    description: "a short-lived WebSocket token",
    scope: "tenant",
    keys: { item: keys.wsToken },
    shape: { pk: TENANT, sk: /^WSTOKEN#/ },
    expires: true,
    audit: "noise",
    why: "a short-lived credential; the key that asked for it is recorded",
  }),
  connection: define({
    name: "connection",
    description: "an open WebSocket connection",
    scope: "tenant",
    keys: { item: keys.connection, index: keys.connectionIndex, prefix: keys.connectionPrefix },
    shape: { pk: TENANT, sk: /^CONN#/ },
    indexes: ["gsi1"],
    expires: true,
    audit: "noise",
    why: "comes and goes with every browser tab",
  }),
  rateWindow: define({
    name: "rateWindow",
    description: "a rate limiter's bucket (its own `T#<orgId>#RL#<bucket>` partition)",
    scope: "tenant",
    keys: { item: keys.rateWindow },
    shape: { pk: /^T#[^#]+#RL#.+$/, sk: /^RL$/ },
    expires: true,
    audit: "noise",
    why: "written by every admitted request",
  }),
  auditEntry: define({
    name: "auditEntry",
    description: "an entry of a tenant's audit log",
    scope: "tenant",
    keys: { item: keys.auditEntry, prefix: keys.auditEntryPrefix },
    shape: { pk: TENANT, sk: /^AUDIT#\d{12}$/ },
    audit: "own",
  }),
  auditHead: define({
    name: "auditHead",
    description: "the head of a tenant's audit chain",
    scope: "tenant",
    keys: { item: keys.auditHead },
    shape: { pk: TENANT, sk: /^AUDITHEAD$/ },
    audit: "own",
  }),
  auditCheckpoint: define({
    name: "auditCheckpoint",
    description: "a signed checkpoint of a tenant's audit chain",
    scope: "tenant",
    keys: { item: keys.auditCheckpoint, prefix: keys.auditCheckpointPrefix },
    shape: { pk: TENANT, sk: /^AUDITCP#\d{12}$/ },
    audit: "own",
  }),
  auditSource: define({
    name: "auditSource",
    description: "\"this stream record is in the log\" (makes appends idempotent)",
    scope: "tenant",
    keys: { item: keys.auditSource },
    shape: { pk: TENANT, sk: /^AUDITSRC#/ },
    expires: true,
    audit: "own",
  }),
  auditPending: define({
    name: "auditPending",
    description: "\"this stream record is known but not in the log yet\"",
    scope: "tenant",
    keys: { item: keys.auditPending, prefix: keys.auditPendingPrefix },
    shape: { pk: TENANT, sk: /^AUDITPEND#/ },
    expires: true,
    audit: "own",
  }),
  auditKey: define({
    name: "auditKey",
    description: "the public half of a checkpoint signing key",
    scope: "platform",
    keys: { item: keys.auditKey, partition: keys.auditKeysPartition, prefix: keys.auditKeyPrefix },
    shape: { pk: /^P#AUDIT$/, sk: /^KEY#/ },
    audit: "own",
  }),
  streamLoss: define({
    name: "streamLoss",
    description: "a range of a stream shard a consumer lost",
    scope: "platform",
    keys: { item: keys.streamLoss, partition: keys.streamLossPartition, prefix: keys.streamLossPrefix },
    shape: { pk: /^P#STREAMLOSS$/, sk: /^LOSS#/ },
    audit: "own",
  }),
  purgedOrganization: define({
    name: "purgedOrganization",
    description: "a purged organization's tombstone",
    scope: "platform",
    keys: { item: keys.purged },
    shape: { pk: /^P#PURGED$/, sk: /^ORG#/ },
    audit: "platform",
  }),
} as const;

export type EntityName = (typeof entities)[keyof typeof entities]["name"];

/** Every registered entity, in declaration order. */
export const ALL_ENTITIES: readonly Entity[] = Object.values(entities);

const byName = new Map<string, Entity>(ALL_ENTITIES.map((e) => [e.name, e]));

/** The registered entity of that name, if any. */
export const entityNamed = (name: string): Entity | undefined => byName.get(name);

/** The names of the entity types the audit log treats one way, in declaration order. */
export const entityNamesTreatedAs = (treatment: AuditTreatment): string[] =>
  ALL_ENTITIES.filter((e) => e.declaration.audit === treatment).map((e) => e.name);

/**
 * What is wrong with a stored item as the registry sees it (null when nothing): no `entity`, an
 * unregistered one, or a key that is not the shape its type declares.
 */
export function registryProblem(item: Record<string, unknown>): string | null {
  const where = `pk=${JSON.stringify(item.pk)} sk=${JSON.stringify(item.sk)}`;
  if (typeof item.entity !== "string") return `${where}: no entity attribute`;
  const entity = byName.get(item.entity);
  if (!entity) return `${where}: entity '${item.entity}' is not registered in core/db/entities.ts`;
  const { pk, sk } = entity.declaration.shape;
  if (typeof item.pk !== "string" || !pk.test(item.pk) || typeof item.sk !== "string" || !sk.test(item.sk)) {
    return `${where}: not the key shape of entity '${item.entity}' (pk ${pk}, sk ${sk})`;
  }
  return null;
}

const code = (names: readonly string[]) => names.map((n) => `\`${n}\``).join(", ");

/**
 * The entity lists of docs/audit-log-format.md section 3.1, as the registry has them. The doc holds
 * this text between `<!-- entities:start -->` and `<!-- entities:end -->`; a test compares the two.
 */
export function auditEntityListMarkdown(): string {
  const noise = ALL_ENTITIES.filter((e) => e.declaration.audit === "noise");
  return [
    `- **Recorded**: ${code(entityNamesTreatedAs("recorded"))}.`,
    `- **Noise** (not recorded): ${noise.map((e) => `\`${e.name}\` (${e.declaration.why})`).join("; ")}.`,
    `- **The audit log's own items** (never recorded: auditing them would make every append cause another): ${code(entityNamesTreatedAs("own"))}.`,
    `- **Platform items** (no tenant's; their \`pk\` does not start with \`T#\`): ${code(ALL_ENTITIES.filter((e) => e.declaration.scope === "platform").map((e) => e.name))}.`,
  ].join("\n");
}
