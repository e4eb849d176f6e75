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
}

export const TIER_PLANS: Record<Tier, TierPlan> = {
  basic: { tier: "basic", basePriceUsd: 49, quotas: { agents: 10, ticketsPerMonth: 100, modelBudgetUsd: 50 } },
  professional: {
    tier: "professional",
    basePriceUsd: 299,
    quotas: { agents: 50, ticketsPerMonth: 1_000, modelBudgetUsd: 500 },
  },
  enterprise: {
    tier: "enterprise",
    basePriceUsd: 1_499,
    quotas: { agents: 500, ticketsPerMonth: 10_000, modelBudgetUsd: 5_000 },
  },
};

export const planOf = (tier: Tier): TierPlan => TIER_PLANS[tier];
