import type { KeySpend } from "../metering/ports";
import type { RateLimitOverride } from "../ratelimit/rate-limit.schema";
import type { Organization } from "./organization.schema";

/** A page of a list, with an opaque cursor for the next one. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** Who made a change: "operator", "key:<keyId>", "agent:<agentId>", "system". Recorded as `updatedBy`. */
export type Actor = string;

/** Persistence of organizations (adapter: core/db/organization.repository.ts). */
export interface OrganizationStore {
  /** Fails with `conflict` if the id exists. */
  create(org: Organization, actor: Actor): Promise<void>;
  get(orgId: string): Promise<Organization | undefined>;
  list(page: PageRequest): Promise<Page<Organization>>;
  /**
   * Sets the given attributes (and only those) of an organization that is still active and still has
   * the `expected` values the decision was based on, and bumps its version. "conflict" when it changed
   * (or was closed) since it was read: the caller re-reads and decides again. `not_found` if missing.
   */
  update(orgId: string, changes: OrganizationChanges, expected: Partial<Pick<Organization, "tier">>, at: string, actor: Actor): Promise<Organization | "conflict">;
  /** Closes it, whatever else changed meanwhile; closing a closed organization changes nothing. */
  close(orgId: string, at: string, actor: Actor): Promise<Organization>;
  /**
   * Sets (or, with null, removes) the operator's rate-limit override, touching only that attribute and
   * the change stamps; returns the organization as stored. `not_found` if it does not exist.
   */
  setRateLimits(orgId: string, override: RateLimitOverride | null, actor: Actor, at: string): Promise<Organization>;
}

/** The attributes an update may set. */
export type OrganizationChanges = Partial<Pick<Organization, "name" | "industry" | "size" | "tier" | "quotas" | "basePriceUsd" | "spendLimitUsd">>;

/** An API key as stored: never the secret, only its SHA-256. */
export interface ApiKeyRecord {
  id: string;
  orgId: string;
  name: string;
  /** First characters of the key, so a person can tell keys apart (`ao_01j..._01k..._3f9a`). */
  prefix: string;
  secretHash: string;
  createdAt: string;
  revokedAt?: string;
  /** The models the key may request on chat completions (as given: "auto", ids, aliases); absent: all. */
  models?: string[];
  /** The key's own monthly model budget in USD, besides the organization's; absent: none. */
  monthlyBudgetUsd?: number;
}

/** A change to a key's name or limits; `null` removes a limit. */
export interface ApiKeyChanges {
  name?: string;
  models?: string[] | null;
  monthlyBudgetUsd?: number | null;
}

export interface ApiKeyStore {
  create(key: ApiKeyRecord, actor: Actor): Promise<void>;
  get(orgId: string, keyId: string): Promise<ApiKeyRecord | undefined>;
  list(orgId: string): Promise<ApiKeyRecord[]>;
  /** The month's spend of the organization's keys that have a monthly budget of their own. */
  spend(orgId: string, period: string): Promise<KeySpend[]>;
  /** Changes a key that is not revoked (`not_found` if missing, `conflict` api_key_revoked if revoked). */
  update(orgId: string, keyId: string, changes: ApiKeyChanges, at: string, actor: Actor): Promise<ApiKeyRecord>;
  /** Marks revoked; `not_found` if missing; idempotent. */
  revoke(orgId: string, keyId: string, at: string, actor: Actor): Promise<ApiKeyRecord>;
}

/** Raw counters of one organization, as kept by the metering and quota code. */
export interface UsageCounters {
  agents: number;
  tickets: number;
  queries: number;
  slmQueries: number;
  llmQueries: number;
  inputTokens: number;
  outputTokens: number;
  /** Metered model cost of the period in micro-USD (integers keep atomic adds exact). */
  costMicroUsd: number;
  /** Cost the same tokens would have had on the default LLM, micro-USD. */
  llmBaselineMicroUsd: number;
  /** Queries answered by the offline responder (their figures are estimates). */
  offlineQueries: number;
  /** Queries that fell back to the other tier. */
  fallbacks: number;
  /** Queries per model id. */
  models: Record<string, number>;
}

export interface UsageStore {
  get(orgId: string, period: string): Promise<UsageCounters>;
}
