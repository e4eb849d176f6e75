import { forbidden, notFound } from "../errors";
import { type Principal, actorOf, assertCanSee } from "../auth/principal";
import { type Clock, systemClock } from "../shared/clock";
import type { Organization } from "../tenants/organization.schema";
import type { OrganizationStore } from "../tenants/ports";
import { planOf } from "../tenants/tiers";
import { type RatePolicy, perMinutePolicy, perSecondPolicy } from "./gcra";
import type { LimitCheck, LimitState, RateLimiter } from "./limiter";
import type { RateLimitOverride, RateLimits, RateLimitSettings } from "./rate-limit.schema";

/** The limits in force for an organization: its tier's, with the operator's override on top. */
export function effectiveLimits(org: Pick<Organization, "tier" | "rateLimits">): RateLimits {
  const defaults = planOf(org.tier).rateLimits;
  const override = org.rateLimits ?? {};
  return {
    organization: { ...defaults.organization, ...override.organization },
    apiKey: { ...defaults.apiKey, ...override.apiKey },
    chat: { ...defaults.chat, ...override.chat },
  };
}

/** The policies of every authenticated request, as named in the RateLimit headers. */
export function requestPolicies(limits: RateLimits): { organization: RatePolicy; apiKey: RatePolicy } {
  const { organization, apiKey } = limits;
  return {
    organization: perSecondPolicy("organization", organization.requestsPerSecond, organization.burst, `${organization.requestsPerSecond} requests a second (bursts of ${organization.burst}) for the organization`),
    apiKey: perSecondPolicy("api-key", apiKey.requestsPerSecond, apiKey.burst, `${apiKey.requestsPerSecond} requests a second (bursts of ${apiKey.burst}) for each API key`),
  };
}

/** The policies of each chat completion (model call), per minute as OpenAI states them. */
export function chatPolicies(limits: RateLimits): { requests: RatePolicy; tokens: RatePolicy } {
  const { requestsPerMinute, tokensPerMinute } = limits.chat;
  return {
    requests: perMinutePolicy("chat-requests", requestsPerMinute, "requests", `${requestsPerMinute} chat completions a minute for the organization`),
    tokens: perMinutePolicy("chat-tokens", tokensPerMinute, "tokens", `${tokensPerMinute} tokens a minute for the organization's chat completions`),
  };
}

/** Bucket names (core/db/keys.ts puts each in its own partition under the tenant's prefix). */
export const BUCKETS = {
  organization: "org",
  apiKey: (keyId: string) => `key#${keyId}`,
  chatRequests: "chat-rpm",
  chatTokens: "chat-tpm",
} as const;

/** Drops empty sections; no section left means no override (the attribute is removed). */
function normalize(override: RateLimitOverride): RateLimitOverride | null {
  const out: RateLimitOverride = {};
  for (const section of ["organization", "apiKey", "chat"] as const) {
    const values = Object.fromEntries(Object.entries(override[section] ?? {}).filter(([, v]) => v !== undefined));
    if (Object.keys(values).length) (out as Record<string, unknown>)[section] = values;
  }
  return Object.keys(out).length ? out : null;
}

export interface RateLimitsDeps {
  limiter: RateLimiter;
  orgs: Pick<OrganizationStore, "get" | "setRateLimits">;
  clock?: Clock;
  /** Forgets this instance's cached view of the organization once its limits change (the others within CREDENTIAL_CHECK_TTL_MS). */
  credentials?: { forget(orgId: string): void };
}

/**
 * Per-tenant and per-key rate limits: which buckets a request must fit into, and the operator's
 * per-organization settings.
 *
 * The operator key is not limited: it is the platform's own, used to react to incidents (lowering a
 * flooding tenant's limits, closing it) exactly when traffic is heaviest, and it must never be locked
 * out then; the stage-wide API Gateway throttle still bounds it (docs/rate-limiting.md).
 */
export function createRateLimits({ limiter, orgs, credentials, clock = systemClock }: RateLimitsDeps) {
  function view(org: Organization): RateLimitSettings {
    return {
      orgId: org.id,
      tier: org.tier,
      defaults: planOf(org.tier).rateLimits,
      override: org.rateLimits ?? null,
      effective: effectiveLimits(org),
    };
  }

  return {
    /**
     * Every authenticated request (HTTP route or WebSocket frame) of an organization key: its key's
     * bucket first, then its organization's, so a key over its own limit never spends its
     * organization's. `org` is the organization the authenticator read: limits cost no extra read.
     */
    async admitRequest(principal: Principal, org: Organization | undefined): Promise<LimitState[]> {
      if (principal.kind !== "org" || !org) return [];
      const policies = requestPolicies(effectiveLimits(org));
      // Written together (one round trip); a request its key refuses gives its organization's unit back.
      return limiter.admit(
        [
          { ref: { orgId: org.id, bucket: BUCKETS.apiKey(principal.keyId) }, policy: policies.apiKey },
          { ref: { orgId: org.id, bucket: BUCKETS.organization }, policy: policies.organization },
        ],
        { together: true },
      );
    },

    /** A chat completion (one model call) of `tokens` estimated tokens: requests and tokens per minute, written together. */
    async admitChat(org: Organization, tokens: number): Promise<LimitState[]> {
      const policies = chatPolicies(effectiveLimits(org));
      const checks: LimitCheck[] = [
        { ref: { orgId: org.id, bucket: BUCKETS.chatRequests }, policy: policies.requests },
        { ref: { orgId: org.id, bucket: BUCKETS.chatTokens }, policy: policies.tokens, cost: Math.max(1, Math.ceil(tokens)) },
      ];
      return limiter.admit(checks, { together: true });
    },

    /** The organization's limits: the operator sees any, an organization key its own; another's id is 404. */
    async settings(principal: Principal, orgId: string): Promise<RateLimitSettings> {
      assertCanSee(principal, orgId);
      const org = await orgs.get(orgId);
      if (!org) throw notFound("Organization", orgId);
      return view(org);
    },

    /**
     * Operator only: replaces the organization's override (`{}` removes it). It takes effect with the
     * next request on this function instance, and on every other one within CREDENTIAL_CHECK_TTL_MS
     * (the organization comes with the cached check of the caller's key).
     */
    async setOverride(principal: Principal, orgId: string, override: RateLimitOverride): Promise<RateLimitSettings> {
      assertCanSee(principal, orgId);
      if (principal.kind !== "operator") throw forbidden("Only the platform operator can change rate limits.", "operator_only");
      const org = await orgs.setRateLimits(orgId, normalize(override), actorOf(principal), clock.now().toISOString());
      credentials?.forget(orgId);
      return view(org);
    },
  };
}

export type RateLimitService = ReturnType<typeof createRateLimits>;
