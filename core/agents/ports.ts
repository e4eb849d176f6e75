import type { Page, PageRequest } from "../tenants/ports";
import type { AgentRecord, MessageRecord } from "./agent.schema";
import type { Role } from "./roles";

export interface RoleStore {
  list(orgId: string): Promise<Role[]>;
  get(orgId: string, id: string): Promise<Role | undefined>;
  /** Stores a new custom role; fails with conflict if the id exists. */
  create(orgId: string, role: Role, actor: string): Promise<void>;
  /**
   * Replaces a custom role still at `expectedVersion` (bumping it); "conflict" when it changed meanwhile,
   * not_found when it is gone.
   */
  replace(orgId: string, role: Role, expectedVersion: number, actor: string): Promise<"ok" | "conflict">;
  /**
   * Fails with conflict while agents still have the role: checked against its holder count, which every
   * agent write keeps in the same transaction (RoleHolders), so a concurrent agent create cannot slip in.
   */
  remove(orgId: string, id: string): Promise<void>;
}

export interface ConversationTurn {
  role: "user" | "assistant";
  content: string;
  at: string;
  /**
   * An assistant turn the offline responder answered: kept for the record, never sent to a model (or
   * folded into the summary it reads) as if it were that model's own words.
   */
  offline?: boolean;
}

/** An agent's conversation memory: recent turns verbatim, older ones folded into a rolling summary. */
export interface Memory {
  summary: string;
  turns: ConversationTurn[];
}

/**
 * What a hierarchy decision was based on. `version` is bumped by every structural change (an agent
 * moved, deleted, or its level changed), each conditional on the version it read, so structural
 * changes are serialized. `agents` is the agent count, which every create moves: a structural change
 * also requires it unchanged, so it never misses an agent created under one it reshapes; creates check
 * `version` without bumping it, so they do not serialize among themselves.
 */
export interface HierarchyState {
  version: number;
  agents: number;
}

/** An agent to write, and the version it had when the decision to write it was made. */
export interface AgentWrite {
  agent: AgentRecord;
  expectedVersion: number;
}

/**
 * How the number of agents holding each custom role changes with a write (role id -> +1/-1). Built-in
 * roles are not stored and not counted. A role that is gone fails the write.
 */
export type RoleHolders = Record<string, number>;

export interface AgentStore {
  /** Every agent of the organization (bounded by the agent quota). */
  list(orgId: string): Promise<AgentRecord[]>;
  get(orgId: string, id: string): Promise<AgentRecord | undefined>;
  /**
   * One transaction: the agent, the agents counter (only below `limit`: concurrent creates never
   * exceed the quota), the manager's existence, and for a root the organization's single root marker.
   * Fails with quota_exceeded, not_found (manager) or conflict (root exists).
   */
  create(agent: AgentRecord & { orgId: string }, limit: number, holders: RoleHolders, hierarchy: HierarchyState, actor: string): Promise<"ok" | "quota" | "manager_gone" | "root_exists" | "role_gone" | "conflict">;
  /** The hierarchy's state (read it before the agents, so that a change in between fails the write). */
  hierarchyState(orgId: string): Promise<HierarchyState>;
  /**
   * Saves changes to agents in one transaction (a move with its reports): each still at the version it
   * was read at and, for a structural change, the hierarchy still at version `hierarchy` (null: not
   * structural, a rename), so two concurrent moves can never build a cycle or a level inversion.
   * "conflict": read again and decide again.
   */
  save(orgId: string, agents: AgentWrite[], holders: RoleHolders, hierarchy: HierarchyState | null, actor: string): Promise<"ok" | "conflict">;
  /** Deletes the agent (and its memory) and gives its quota slot back, after moving its reports; versions as in `save`. */
  remove(orgId: string, agent: AgentRecord, reports: AgentWrite[], holders: RoleHolders, hierarchy: HierarchyState, actor: string): Promise<"ok" | "conflict">;
  /** The agent's memory and its version (0 when it has none yet). */
  getMemory(orgId: string, agentId: string): Promise<Memory & { version: number }>;
  /** Writes the memory if it is still at `expectedVersion`; "conflict" when another turn wrote first. */
  putMemory(orgId: string, agentId: string, memory: Memory, expectedVersion: number): Promise<"ok" | "conflict">;
  /** Keeps a run's steps (model calls and tool calls) for inspection; expires after 30 days. */
  recordRun(orgId: string, run: AgentRun): Promise<void>;
  /**
   * An agent's chat turns of one conversation (its own, or the organization channel's for the root
   * agent), newest first, a page at a time (a page may be short and still have a cursor: task runs
   * are skipped).
   */
  listConversation(orgId: string, agentId: string, conversation: "agent" | "channel", page: PageRequest): Promise<Page<AgentRun>>;
}

export interface AgentStep {
  n: number;
  model: string;
  tier: "slm" | "llm";
  content: string;
  toolCalls: { name: string; arguments: string; ok: boolean; result: string }[];
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
}

export interface AgentRun {
  id: string;
  agentId: string;
  input: string;
  reply: string;
  steps: AgentStep[];
  startedAt: string;
  finishedAt: string;
  /** Delegation depth: 0 for a person's chat, 1 for a task delegated by that agent, ... */
  depth: number;
  /**
   * A person's chat turn: with the agent itself, or on the organization channel (answered by the root
   * agent). Absent for a task's run. What `GET /conversations` shows after a reload.
   */
  conversation?: "agent" | "channel";
  /** Who asked, for a chat turn (`key:<id>`). */
  askedBy?: string;
  /** The model that gave the reply, its tier, and whether it was the offline responder. */
  model?: string;
  tier?: "slm" | "llm";
  offline?: boolean;
}

export interface MessageStore {
  /** Stores messages in their recipients' inboxes (status queued) and counts them as queued. */
  deliver(orgId: string, messages: MessageRecord[]): Promise<void>;
  list(orgId: string, agentId: string, page: PageRequest): Promise<Page<MessageRecord>>;
  get(orgId: string, agentId: string, messageId: string): Promise<MessageRecord | undefined>;
  setStatus(orgId: string, agentId: string, messageId: string, status: MessageRecord["status"], actor: string): Promise<MessageRecord>;
  /** Queued messages per agent id. */
  queuedCounts(orgId: string): Promise<Record<string, number>>;
}

/** What a claim takes: the task as read, the claim's token and lease, and the organization's limits. */
export interface Claim {
  token: string;
  now: string;
  leaseUntil: string;
  /** UTC day `YYYY-MM-DD` of the daily counters. */
  day: string;
  settings: import("./work.schema").WorkSettings;
  /** Whether the message is still `queued` (it leaves the inbox's queued count with the claim). */
  messageQueued: boolean;
}

/** How a task ends, written with its message's status (and the reports it sends) in one transaction. */
export interface TaskOutcome {
  status: "done" | "failed" | "needs_human";
  reason?: string;
  now: string;
  day: string;
  steps?: number;
  costMicroUsd?: number;
  inputTokens?: number;
  outputTokens?: number;
  runId?: string;
  result?: string;
  /** Messages sent with the outcome (a report to the delegator): delivered in the same transaction. */
  reports: MessageRecord[];
}

/**
 * The work queue's bookkeeping (core/agents/work.ts): task items beside their messages, and the
 * organization's counters. Every transition is one conditional transaction over the task, its message
 * and the counters, so a redelivered task, a second worker, or a crash between writes cannot make two
 * effects or lose a concurrency slot.
 */
export interface WorkStore {
  get(orgId: string, taskId: string): Promise<import("./work.schema").TaskRecord | undefined>;
  /**
   * Takes the task for one attempt: it must be as read (queued, or working with an expired lease); a
   * claim from queued takes a concurrency slot (below the limit) and counts against the day's tasks and
   * cost. "busy": the organization is at its concurrency limit; "daily_tasks"/"daily_cost": a daily
   * budget is used up; "conflict": the task changed meanwhile.
   */
  claim(orgId: string, task: import("./work.schema").TaskRecord, claim: Claim): Promise<"ok" | "busy" | "daily_tasks" | "daily_cost" | "conflict">;
  /** Ends a claimed task (still held by `token`) and gives its slot back; "conflict" when it is no longer held. */
  finish(orgId: string, task: import("./work.schema").TaskRecord, token: string, outcome: TaskOutcome): Promise<"ok" | "conflict">;
  /** Puts a claimed task back to queued for another attempt (its slot given back). */
  release(orgId: string, task: import("./work.schema").TaskRecord, token: string, reason: string, now: string): Promise<"ok" | "conflict">;
  /**
   * Ends a task no worker holds (the dead-letter consumer; a daily budget used up): from the status it
   * was read in, giving back a slot a crashed worker held.
   */
  end(orgId: string, task: import("./work.schema").TaskRecord, outcome: TaskOutcome, messageQueued: boolean): Promise<"ok" | "conflict">;
  list(orgId: string, query: { status?: import("./work.schema").TaskStatus; limit?: number; cursor?: string }): Promise<Page<import("./work.schema").TaskRecord>>;
  settings(orgId: string): Promise<import("./work.schema").WorkSettings>;
  putSettings(orgId: string, settings: import("./work.schema").WorkSettings, actor: string): Promise<void>;
  usage(orgId: string, day: string): Promise<import("./work.schema").WorkUsage>;
}
