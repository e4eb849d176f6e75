import type { Page, PageRequest } from "../tenants/ports";
import type { RoutingSettings } from "../chat/chat.schema";

/** One attempt at a model within a query (the first, and the fallback if it failed). */
export interface Attempt {
  model: string;
  tier: "slm" | "llm";
  ok: boolean;
  latencyMs: number;
  error?: string;
}

/** The routing decision and cost record of one query: what was decided, why, and what it cost. */
export interface UsageRecord {
  id: string;
  orgId: string;
  time: string;
  /** What the client asked for: "auto" or a model id. */
  requestedModel: string;
  model: string;
  tier: "slm" | "llm";
  score: number | null;
  threshold: number | null;
  reason: { code: string; detail: string };
  attempts: Attempt[];
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  /** What the same tokens would have cost on the default LLM. */
  baselineMicroUsd: number;
  latencyMs: number;
  offline: boolean;
  estimated: boolean;
  stream: boolean;
  /** The agent that made the query, when an agent did. */
  agentId?: string;
}

export interface GlobalStats {
  period: string;
  organizations: number;
  queries: number;
  slmQueries: number;
  llmQueries: number;
  inputTokens: number;
  outputTokens: number;
  costMicroUsd: number;
  baselineMicroUsd: number;
  models: Record<string, number>;
}

export interface ModelDistribution {
  [modelId: string]: number;
}

/** Budget reservations and the metering counters (adapter: core/db/metering.repository.ts). */
export interface MeteringStore {
  /**
   * Atomically reserves `amountMicroUsd` of the period's budget; false (nothing reserved) if the
   * committed spend plus the reservation would exceed `limitMicroUsd`.
   */
  reserve(orgId: string, period: string, amountMicroUsd: number, limitMicroUsd: number): Promise<boolean>;
  /** Gives a reservation back (the call failed before costing anything). */
  release(orgId: string, period: string, amountMicroUsd: number): Promise<void>;
  /** Replaces a reservation by the real cost, adds the counters and stores the record, in one transaction. */
  settle(period: string, reservedMicroUsd: number, record: UsageRecord): Promise<void>;
  listRecords(orgId: string, page: PageRequest): Promise<Page<UsageRecord>>;
  modelDistribution(orgId: string, period: string): Promise<ModelDistribution>;
  globalStats(period: string): Promise<GlobalStats>;
}

export interface RoutingSettingsStore {
  get(orgId: string): Promise<RoutingSettings>;
  put(orgId: string, settings: RoutingSettings, actor: string): Promise<void>;
}
