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

/**
 * A budget reservation: the most one query may cost, held against the period's budget from before the
 * model is called until the query is settled (its real cost replaces it) or released (it cost nothing).
 * A process killed in between cannot do either, so each open reservation carries an expiry after which
 * the reconciler (core/metering/reconciler.ts) releases it.
 */
export interface Reservation {
  id: string;
  orgId: string;
  period: string;
  amountMicroUsd: number;
  /** Epoch ms after which its invocation is surely over (core/shared/deadline.ts `reservationExpiry`). */
  expiresAt: number;
  /**
   * The API key whose own monthly budget also holds it (keys with a `monthlyBudgetUsd`): the key's
   * month item then holds the same reservation, taken, closed and released with the organization's in
   * one transaction, so either both hold it or neither does.
   */
  keyId?: string;
}

/** A reservation's outcome: held, or refused by the organization's budget or by the key's own. */
export type ReserveOutcome = "reserved" | "budget_exceeded" | "key_budget_exceeded";

/** One API key's spend in a period (keys with a monthly budget of their own only). */
export interface KeySpend {
  keyId: string;
  /** Settled cost of the key's queries this period. */
  costMicroUsd: number;
  /** Settled cost plus the reservations of queries still running: what the budget is checked against. */
  committedMicroUsd: number;
  queries: number;
}

/** Budget reservations and the metering counters (adapter: core/db/metering.repository.ts). */
export interface MeteringStore {
  /**
   * Atomically reserves the reservation's amount of the period's budget and records it as open; nothing
   * is reserved if the committed spend plus the reservation would exceed `limitMicroUsd`
   * ("budget_exceeded") or, for a reservation with a `keyId`, the key's committed spend plus it would
   * exceed `keyLimitMicroUsd` ("key_budget_exceeded").
   */
  reserve(reservation: Reservation, limitMicroUsd: number, keyLimitMicroUsd?: number): Promise<ReserveOutcome>;
  /**
   * Gives an open reservation back (the call failed before costing anything). Exactly once: false when it
   * was no longer open (settled, released, or released by the reconciler).
   */
  release(reservation: Reservation): Promise<boolean>;
  /**
   * Replaces the reservation by the real cost, adds the counters and stores the record, in one
   * transaction. A reservation the reconciler released already (a settle later than its expiry) is not
   * given back twice: the cost is then added in full.
   */
  settle(reservation: Reservation, record: UsageRecord): Promise<void>;
  /** Open reservations of a period whose expiry is before `now`, a page at a time. */
  expiredReservations(period: string, now: number, page: PageRequest): Promise<Page<Reservation>>;
  /** Releases an expired reservation, exactly once: false when it was settled or released meanwhile. */
  releaseExpired(reservation: Reservation, now: number): Promise<boolean>;
  listRecords(orgId: string, page: PageRequest): Promise<Page<UsageRecord>>;
  modelDistribution(orgId: string, period: string): Promise<ModelDistribution>;
  globalStats(period: string): Promise<GlobalStats>;
}

export interface RoutingSettingsStore {
  get(orgId: string): Promise<RoutingSettings>;
  put(orgId: string, settings: RoutingSettings, actor: string): Promise<void>;
  /** The settings with their revision (null when never written), for a conditional `replace`. */
  read(orgId: string): Promise<{ settings: RoutingSettings; revision: string | null }>;
  /**
   * Writes the settings if they are still at `revision` (what `read` gave); 409
   * `routing_settings_changed` when someone changed them in between.
   */
  replace(orgId: string, settings: RoutingSettings, actor: string, revision: string | null): Promise<void>;
}

/** A tenant's feedback on one completion, with the routing decision it rates (from the cost record). */
export interface RoutingFeedback {
  /** The completion's id, `chatcmpl-<recordId>`. */
  id: string;
  /** The cost record's id. */
  recordId: string;
  orgId: string;
  rating: "up" | "down";
  neededLargeModel: boolean | null;
  comment: string | null;
  decision: { time: string; model: string; tier: "slm" | "llm"; score: number | null; threshold: number | null; reason: string };
  /** When the feedback was given, or last changed. */
  time: string;
  updatedBy: string;
}

/** Feedback on completions, per tenant (adapter: core/db/routing-feedback.repository.ts). */
export interface FeedbackStore {
  /** The organization's cost record of that id; undefined when it has none (another organization's included). */
  decision(orgId: string, recordId: string): Promise<UsageRecord | undefined>;
  /**
   * Stores the completion's feedback, replacing its previous one; `changed: false` (nothing written)
   * when the previous one said the same (rating, flag, comment).
   */
  put(feedback: RoutingFeedback): Promise<{ changed: boolean; stored: RoutingFeedback }>;
  /** The organization's feedback, newest completion first. */
  list(orgId: string, page: PageRequest): Promise<Page<RoutingFeedback>>;
}
