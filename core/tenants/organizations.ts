import { forbidden, notFound } from "../errors";
import { newId } from "../ids";
import { type Principal, actorOf, assertCanSee } from "../auth/principal";
import { type Clock, periodOf, periodResetsAt, systemClock } from "../shared/clock";
import type {
  CreateOrganizationInput,
  Organization,
  OrganizationUsage,
  UpdateOrganizationInput,
} from "./organization.schema";
import type { OrganizationStore, Page, PageRequest, UsageStore } from "./ports";
import { planOf } from "./tiers";

export interface OrganizationsDeps {
  store: OrganizationStore;
  usage: UsageStore;
  clock?: Clock;
}

const MICRO = 1_000_000;
const usd = (micro: number) => Math.round(micro) / MICRO;

/** Organization (tenant) use cases. Authorization rules live here, not in handlers. */
export function createOrganizations({ store, usage, clock = systemClock }: OrganizationsDeps) {
  async function load(principal: Principal, orgId: string): Promise<Organization> {
    assertCanSee(principal, orgId);
    const org = await store.get(orgId);
    if (!org) throw notFound("Organization", orgId);
    return org;
  }

  return {
    /** Operator only: a new tenant with the quotas of its tier. */
    async create(principal: Principal, input: CreateOrganizationInput): Promise<Organization> {
      if (principal.kind !== "operator") throw forbidden("Only the platform operator can create organizations.");
      const now = clock.now().toISOString();
      const plan = planOf(input.tier);
      const org: Organization = {
        id: newId(),
        name: input.name,
        industry: input.industry,
        size: input.size,
        tier: input.tier,
        status: "active",
        quotas: { ...plan.quotas },
        basePriceUsd: plan.basePriceUsd,
        createdAt: now,
        updatedAt: now,
      };
      await store.create(org, actorOf(principal));
      return org;
    },

    get: load,

    /** The operator sees every organization; an organization's key sees only its own. */
    async list(principal: Principal, page: PageRequest): Promise<Page<Organization>> {
      if (principal.kind === "org") {
        const own = await store.get(principal.orgId);
        return { items: own ? [own] : [] };
      }
      return store.list(page);
    },

    /**
     * Name, industry and size may be changed by the organization itself; the tier (hence quotas and
     * price) only by the operator. A tier change re-derives the quotas.
     */
    async update(principal: Principal, orgId: string, input: UpdateOrganizationInput): Promise<Organization> {
      const org = await load(principal, orgId);
      if (input.tier !== undefined && input.tier !== org.tier && principal.kind !== "operator") {
        throw forbidden("Only the platform operator can change an organization's tier.", "tier_change_forbidden");
      }
      if (org.status === "closed") throw forbidden("The organization is closed.", "organization_closed");
      const tier = input.tier ?? org.tier;
      const plan = planOf(tier);
      const updated: Organization = {
        ...org,
        ...(input.name !== undefined ? { name: input.name } : {}),
        ...(input.industry !== undefined ? { industry: input.industry } : {}),
        ...(input.size !== undefined ? { size: input.size } : {}),
        ...(input.spendLimitUsd !== undefined ? { spendLimitUsd: input.spendLimitUsd } : {}),
        tier,
        quotas: { ...plan.quotas },
        basePriceUsd: plan.basePriceUsd,
        updatedAt: clock.now().toISOString(),
      };
      await store.save(updated, actorOf(principal));
      return updated;
    },

    /**
     * Operator only. Closing revokes access (every key of the organization stops working) and keeps the
     * data; `npm run org:purge` removes it. Closing twice is a no-op.
     */
    async close(principal: Principal, orgId: string): Promise<Organization> {
      const org = await load(principal, orgId);
      if (principal.kind !== "operator") throw forbidden("Only the platform operator can close an organization.");
      if (org.status === "closed") return org;
      const now = clock.now().toISOString();
      const closed: Organization = { ...org, status: "closed", closedAt: now, updatedAt: now };
      await store.save(closed, actorOf(principal));
      return closed;
    },

    /** Usage of the current period against the tier's quotas, and a bill preview. */
    async usage(principal: Principal, orgId: string): Promise<OrganizationUsage> {
      const org = await load(principal, orgId);
      const now = clock.now();
      const period = periodOf(now);
      const counters = await usage.get(orgId, period);
      const meteredUsd = usd(counters.costMicroUsd);
      return {
        orgId,
        period,
        resetsAt: periodResetsAt(now),
        agents: { used: counters.agents, limit: org.quotas.agents },
        tickets: { used: counters.tickets, limit: org.quotas.ticketsPerMonth },
        modelSpendUsd: { used: meteredUsd, limit: modelBudgetOf(org) },
        queries: {
          total: counters.queries,
          slm: counters.slmQueries,
          llm: counters.llmQueries,
          offline: counters.offlineQueries,
          fallbacks: counters.fallbacks,
        },
        models: counters.models,
        tokens: { input: counters.inputTokens, output: counters.outputTokens },
        costUsd: meteredUsd,
        baselineUsd: usd(counters.llmBaselineMicroUsd),
        savingsUsd: usd(Math.max(0, counters.llmBaselineMicroUsd - counters.costMicroUsd)),
        estimated: counters.offlineQueries > 0,
        bill: {
          basePriceUsd: org.basePriceUsd,
          meteredUsd,
          totalUsd: usd(org.basePriceUsd * MICRO + counters.costMicroUsd),
        },
      };
    },
  };
}

export type Organizations = ReturnType<typeof createOrganizations>;

/** The monthly model budget in force: the tier's, or the organization's own lower cap. */
export const modelBudgetOf = (org: Organization): number =>
  org.spendLimitUsd === null || org.spendLimitUsd === undefined ? org.quotas.modelBudgetUsd : Math.min(org.spendLimitUsd, org.quotas.modelBudgetUsd);
