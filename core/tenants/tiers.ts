import type { RateLimits } from "../ratelimit/rate-limit.schema";

/**
 * Subscription tiers and what each includes. The quotas of an organization are always derived from its
 * tier (a tier change re-derives them), so this table is the single source of truth for limits and
 * prices. Documented in the README ("Tiers and quotas").
 */
export const TIERS = ["basic", "professional", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];

export interface Quotas {
  /** Agents that may exist at once. */
  agents: number;
  /** Tickets that may be opened per calendar month (UTC). */
  ticketsPerMonth: number;
  /** Monthly model spend budget in USD (metered model cost). */
  modelBudgetUsd: number;
}

export interface TierPlan {
  tier: Tier;
  /** Monthly base price in USD, billed on top of metered model cost. */
  basePriceUsd: number;
  quotas: Quotas;
  /**
   * Default rate limits (core/ratelimit). Unlike quotas they are not copied onto the organization: they
   * are read from here on every request, so a tier change or a new default applies at once; the
   * operator can override any value per organization (`PUT /organizations/{id}/rate-limits`).
   *
   * Bursts are generous (a dashboard page or a batch script sends many requests at once); the
   * sustained rates are what a flood runs into. Chat tokens per minute count the estimated input plus
   * `max_tokens` of each call, as OpenAI counts them.
   */
  rateLimits: RateLimits;
}

export const TIER_PLANS: Record<Tier, TierPlan> = {
  basic: {
    tier: "basic",
    basePriceUsd: 49,
    quotas: { agents: 10, ticketsPerMonth: 100, modelBudgetUsd: 50 },
    rateLimits: {
      organization: { requestsPerSecond: 20, burst: 200 },
      apiKey: { requestsPerSecond: 10, burst: 100 },
      chat: { requestsPerMinute: 100, tokensPerMinute: 100_000 },
    },
  },
  professional: {
    tier: "professional",
    basePriceUsd: 299,
    quotas: { agents: 50, ticketsPerMonth: 1_000, modelBudgetUsd: 500 },
    rateLimits: {
      organization: { requestsPerSecond: 100, burst: 500 },
      apiKey: { requestsPerSecond: 50, burst: 250 },
      chat: { requestsPerMinute: 1_000, tokensPerMinute: 1_000_000 },
    },
  },
  enterprise: {
    tier: "enterprise",
    basePriceUsd: 1_499,
    quotas: { agents: 500, ticketsPerMonth: 10_000, modelBudgetUsd: 5_000 },
    rateLimits: {
      organization: { requestsPerSecond: 400, burst: 2_000 },
      apiKey: { requestsPerSecond: 200, burst: 1_000 },
      chat: { requestsPerMinute: 5_000, tokensPerMinute: 5_000_000 },
    },
  },
};

export const planOf = (tier: Tier): TierPlan => TIER_PLANS[tier];
