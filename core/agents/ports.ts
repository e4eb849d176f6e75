import type { Page, PageRequest } from "../tenants/ports";
import type { AgentRecord, MessageRecord } from "./agent.schema";
import type { Role } from "./roles";

export interface RoleStore {
  list(orgId: string): Promise<Role[]>;
  get(orgId: string, id: string): Promise<Role | undefined>;
  /** `create` fails with conflict if the id exists; `replace` with not_found if it does not. */
  put(orgId: string, role: Role, actor: string, mode: "create" | "replace"): Promise<void>;
  /** Fails with conflict while agents still have the role. */
  remove(orgId: string, id: string): Promise<void>;
}

export interface ConversationTurn {
  role: "user" | "assistant";
  content: string;
  at: string;
}

/** An agent's conversation memory: recent turns verbatim, older ones folded into a rolling summary. */
export interface Memory {
  summary: string;
  turns: ConversationTurn[];
}

export interface AgentStore {
  /** Every agent of the organization (bounded by the agent quota). */
  list(orgId: string): Promise<AgentRecord[]>;
  get(orgId: string, id: string): Promise<AgentRecord | undefined>;
  /**
   * One transaction: the agent, the agents counter (only below `limit`: concurrent creates never
   * exceed the quota), the manager's existence, and for a root the organization's single root marker.
   * Fails with quota_exceeded, not_found (manager) or conflict (root exists).
   */
  create(agent: AgentRecord & { orgId: string }, limit: number, actor: string): Promise<"ok" | "quota" | "manager_gone" | "root_exists">;
  /** Saves changes to agents in one transaction (a move with its reports); each must still exist. */
  save(orgId: string, agents: AgentRecord[], actor: string): Promise<void>;
  /** Deletes the agent (and its memory) and gives its quota slot back, after moving its reports. */
  remove(orgId: string, agent: AgentRecord, reports: AgentRecord[], actor: string): Promise<void>;
  getMemory(orgId: string, agentId: string): Promise<Memory>;
  putMemory(orgId: string, agentId: string, memory: Memory): Promise<void>;
  /** Keeps a run's steps (model calls and tool calls) for inspection; expires after 30 days. */
  recordRun(orgId: string, run: AgentRun): Promise<void>;
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
