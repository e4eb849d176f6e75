import { forbidden, notFound } from "../errors";
import { newId } from "../ids";
import { type Principal, actorOf, assertCanSee } from "../auth/principal";
import { type Clock, periodOf, periodResetsAt, systemClock } from "../shared/clock";
import { untilWritten } from "../shared/retry";
import type {
  CreateOrganizationInput,
  Organization,
  OrganizationUsage,
  UpdateOrganizationInput,
} from "./organization.schema";
import type { OrganizationChanges, OrganizationStore, Page, PageRequest, UsageStore } from "./ports";
import { planOf } from "./tiers";

export interface OrganizationsDeps {
  store: OrganizationStore;
  usage: UsageStore;
  /** Ends the WebSocket sessions of a closed organization (best effort here; the stream backstop retries). */
  sessions?: { end(orgId: string, keyId?: string): Promise<number> };
  /** Forgets cached "still valid" answers of this instance. */
  credentials?: { forget(orgId: string, keyId?: string): void };
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
}

/** Attempts of an update that keeps losing to concurrent changes before it answers 409. */
const MAX_UPDATE_ATTEMPTS = 6;

const MICRO = 1_000_000;
const usd = (micro: number) => Math.round(micro) / MICRO;

/** Organization (tenant) use cases. Authorization rules live here, not in handlers. */
export function createOrganizations({ store, usage, sessions, credentials, clock = systemClock, sleep }: OrganizationsDeps) {
  /**
   * The revocation has been written; its sessions are closed now, or (if this fails) by the
   * revocations stream consumer within seconds. A failure here never undoes or fails the revocation.
   */
  async function endSessions(orgId: string, keyId?: string): Promise<void> {
    try {
      await sessions?.end(orgId, keyId);
    } catch {
      // The backstop (functions/stream/revocations.ts) closes them.
    }
  }

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
        version: 1,
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
     *
     * Concurrency: only the attributes the request changes are written (an update expression), on
     * condition that the organization is still active and still has what the decision read (the tier,
     * when the request names one), so no concurrent change is undone: two renames both land, a rename
     * never reopens a closed organization or restores a tier. A lost race reads again and decides again,
     * a bounded number of times. The version counts every change.
     */
    async update(principal: Principal, orgId: string, input: UpdateOrganizationInput): Promise<Organization> {
      return untilWritten(async () => {
        const org = await load(principal, orgId);
        if (input.tier !== undefined && input.tier !== org.tier && principal.kind !== "operator") {
          throw forbidden("Only the platform operator can change an organization's tier.", "tier_change_forbidden");
        }
        if (org.status === "closed") throw forbidden("The organization is closed.", "organization_closed");
        const changes: OrganizationChanges = {};
        if (input.name !== undefined) changes.name = input.name;
        if (input.industry !== undefined) changes.industry = input.industry;
        if (input.size !== undefined) changes.size = input.size;
        if (input.spendLimitUsd !== undefined) changes.spendLimitUsd = input.spendLimitUsd;
        if (input.tier !== undefined && input.tier !== org.tier) {
          const plan = planOf(input.tier);
          Object.assign(changes, { tier: input.tier, quotas: { ...plan.quotas }, basePriceUsd: plan.basePriceUsd });
        }
        const updated = await store.update(orgId, changes, input.tier !== undefined ? { tier: org.tier } : {}, clock.now().toISOString(), actorOf(principal));
        if (updated === "conflict") return undefined;
        credentials?.forget(orgId);
        return updated;
      }, { attempts: MAX_UPDATE_ATTEMPTS, gaveUp: "The organization kept changing while this update was applied; read it again and retry.", ...(sleep ? { sleep } : {}) });
    },

    /**
     * Operator only. Closing revokes access (every key of the organization stops working, its open
     * WebSocket connections are closed) and keeps the data; `npm run org:purge` removes it. Closing
     * twice is a no-op. Only the status is written, so no concurrent update can reopen it.
     */
    async close(principal: Principal, orgId: string): Promise<Organization> {
      await load(principal, orgId);
      if (principal.kind !== "operator") throw forbidden("Only the platform operator can close an organization.");
      const closed = await store.close(orgId, clock.now().toISOString(), actorOf(principal));
      credentials?.forget(orgId);
      await endSessions(orgId);
      return closed;
    },

    /** Usage of the current period against the tier's quotas, and a bill preview. */
    /**
     * The period's usage against the quotas. `known` is the organization as the caller's
     * authentication read it (an organization reading its own usage): no second read. Otherwise the
     * organization and its counters are read together.
     */
    async usage(principal: Principal, orgId: string, known?: Organization): Promise<OrganizationUsage> {
      assertCanSee(principal, orgId);
      const now = clock.now();
      const period = periodOf(now);
      const [org, counters] = await Promise.all([known?.id === orgId ? known : load(principal, orgId), usage.get(orgId, period)]);
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
