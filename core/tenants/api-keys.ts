import { createHash, timingSafeEqual } from "node:crypto";
import { forbidden, notFound, unauthorized } from "../errors";
import { ID_PATTERN, newId, randomHex } from "../ids";
import { type Principal, actorOf, assertCanSee } from "../auth/principal";
import { type Clock, periodOf, systemClock } from "../shared/clock";
import type { ApiKey, CreatedApiKey } from "./api-key.schema";
import type { Organization } from "./organization.schema";
import type { ApiKeyChanges, ApiKeyRecord, ApiKeyStore, OrganizationStore } from "./ports";

/**
 * Key format: `ao_<orgId>_<keyId>_<64 hex chars>`. The ids let one strongly consistent GetItem find the
 * record (no index, no scan); the 256-bit secret is what authenticates, compared by SHA-256 in constant
 * time. A fast hash is enough for a random 256-bit secret (there is nothing to brute-force).
 */
const KEY_PATTERN = /^ao_([0-9a-z]{26})_([0-9a-z]{26})_([0-9a-f]{64})$/;

export const sha256Hex = (value: string): string => createHash("sha256").update(value).digest("hex");

const sameHash = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));

const toPublic = ({ secretHash: _secret, ...key }: ApiKeyRecord): ApiKey => key;

export interface ApiKeysDeps {
  keys: ApiKeyStore;
  orgs: OrganizationStore;
  /** Ends the WebSocket sessions of a revoked key (best effort here; the stream backstop retries). */
  sessions?: { end(orgId: string, keyId?: string): Promise<number> };
  /** Forgets cached "still valid" answers of this instance. */
  credentials?: { forget(orgId: string, keyId?: string): void };
  clock?: Clock;
}

export function createApiKeys({ keys, orgs, sessions, credentials, clock = systemClock }: ApiKeysDeps) {
  async function activeOrg(principal: Principal, orgId: string) {
    assertCanSee(principal, orgId);
    const org = await orgs.get(orgId);
    if (!org) throw notFound("Organization", orgId);
    return org;
  }

  return {
    /** A new key for the organization; the secret is in this response only. */
    async create(principal: Principal, orgId: string, input: { name: string; models?: string[] | undefined; monthlyBudgetUsd?: number | undefined }): Promise<CreatedApiKey> {
      const org = await activeOrg(principal, orgId);
      if (org.status === "closed") throw forbidden("The organization is closed.", "organization_closed");
      const id = newId();
      const secret = `ao_${orgId}_${id}_${randomHex(32)}`;
      const record: ApiKeyRecord = {
        id,
        orgId,
        name: input.name,
        prefix: secret.slice(0, 36),
        secretHash: sha256Hex(secret),
        createdAt: clock.now().toISOString(),
        ...(input.models ? { models: [...new Set(input.models)] } : {}),
        ...(input.monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd: input.monthlyBudgetUsd } : {}),
      };
      await keys.create(record, actorOf(principal));
      return { ...toPublic(record), secret };
    },

    /** The keys; one with a monthly budget of its own comes with this month's spend against it. */
    async list(principal: Principal, orgId: string): Promise<ApiKey[]> {
      await activeOrg(principal, orgId);
      const period = periodOf(clock.now());
      const records = await keys.list(orgId);
      const budgeted = records.some((k) => k.monthlyBudgetUsd !== undefined && !k.revokedAt);
      const spent = new Map(budgeted ? (await keys.spend(orgId, period)).map((s) => [s.keyId, s]) : []);
      return records.map((record) => {
        const key = toPublic(record);
        if (record.monthlyBudgetUsd === undefined) return key;
        const spend = spent.get(record.id);
        const cents = (micro: number) => Math.round(micro / 10_000) / 100;
        return {
          ...key,
          spend: {
            period,
            spentUsd: cents(spend?.costMicroUsd ?? 0),
            remainingUsd: Math.max(0, cents(record.monthlyBudgetUsd * 1_000_000 - (spend?.committedMicroUsd ?? 0))),
          },
        };
      });
    },

    /**
     * Renames a key or changes its limits (allowed models, monthly budget; `null` removes one). Takes
     * effect on this instance at once and on others within CREDENTIAL_CHECK_TTL_MS. A revoked key
     * cannot be changed (409 api_key_revoked).
     */
    async update(principal: Principal, orgId: string, keyId: string, changes: ApiKeyChanges): Promise<ApiKey> {
      await activeOrg(principal, orgId);
      if (!ID_PATTERN.test(keyId)) throw notFound("API key", keyId);
      const normalized: ApiKeyChanges = { ...changes, ...(changes.models ? { models: [...new Set(changes.models)] } : {}) };
      const updated = toPublic(await keys.update(orgId, keyId, normalized, clock.now().toISOString(), actorOf(principal)));
      credentials?.forget(orgId, keyId);
      return updated;
    },

    /**
     * Revokes at once: HTTP requests with the key fail from the next one on, its unused WebSocket
     * tokens are refused, and its open connections are closed here (or, should that fail, by the
     * revocations stream consumer within seconds).
     */
    async revoke(principal: Principal, orgId: string, keyId: string): Promise<ApiKey> {
      await activeOrg(principal, orgId);
      if (!ID_PATTERN.test(keyId)) throw notFound("API key", keyId);
      const revoked = toPublic(await keys.revoke(orgId, keyId, clock.now().toISOString(), actorOf(principal)));
      credentials?.forget(orgId, keyId);
      try {
        await sessions?.end(orgId, keyId);
      } catch {
        // The backstop (functions/stream/revocations.ts) closes them.
      }
      return revoked;
    },
  };
}

export interface AuthenticatorDeps {
  keys: ApiKeyStore;
  orgs: OrganizationStore;
  /** SHA-256 (hex) of the platform operator key. */
  operatorKeySha256: string;
  /**
   * The warm instance's cache of keys known valid (createCredentialCheck): a key checked less than
   * CREDENTIAL_CHECK_TTL_MS ago is not read again. Without it, every request reads key and organization.
   */
  credentials?: Pick<CredentialCheck, "validKey">;
}

/** Who is calling, and for an organization key the organization as read to check it. */
export interface Identified {
  principal: Principal;
  /** The key's organization (organization keys only): its tier and rate limits, without another read. */
  org?: Organization;
}

/**
 * Turns an `Authorization` header into a principal (and the organization it read on the way), or fails
 * with 401. Every failure gives the same answer, whether the key is malformed, unknown, revoked or its
 * organization closed.
 */
export function createIdentifier({ keys, orgs, operatorKeySha256, credentials }: AuthenticatorDeps) {
  // Without a shared cache, a check that remembers nothing: every request reads key and organization.
  const check = credentials ?? createCredentialCheck({ keys, orgs, ttlMs: 0 });
  return async function identify(authorization: string | undefined): Promise<Identified> {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "");
    if (!match?.[1]) throw unauthorized();
    const presented = match[1];
    const hash = sha256Hex(presented);
    if (sameHash(hash, operatorKeySha256)) return { principal: { kind: "operator" } };

    const parts = KEY_PATTERN.exec(presented);
    if (!parts) throw unauthorized("The API key is not valid.", "invalid_api_key");
    const [, orgId, keyId] = parts as unknown as [string, string, string];
    const valid = await check.validKey(orgId, keyId);
    if (!valid || !sameHash(hash, valid.secretHash)) throw unauthorized("The API key is not valid.", "invalid_api_key");
    const limits = { ...(valid.models ? { models: valid.models } : {}), ...(valid.monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd: valid.monthlyBudgetUsd } : {}) };
    return { principal: { kind: "org", orgId, keyId, keyName: valid.keyName, ...limits }, org: valid.org };
  };
}

/** `createIdentifier`, for callers that need only the principal. */
export function createAuthenticator(deps: AuthenticatorDeps) {
  const identify = createIdentifier(deps);
  return async function authenticate(authorization: string | undefined): Promise<Principal> {
    return (await identify(authorization)).principal;
  };
}

export type Authenticate = ReturnType<typeof createAuthenticator>;
export type Identify = ReturnType<typeof createIdentifier>;

/**
 * How long a warm function instance trusts a "still valid" answer for a key it already checked: HTTP
 * requests and WebSocket frames with that key within this time read neither key nor organization.
 * Bounds the revocation window on instances other than the revoking one (which forgets at once), and
 * how long a changed organization (tier, limits) takes to reach every instance; invalid answers are
 * never cached as valid. SECURITY.md states the window.
 */
export const CREDENTIAL_CHECK_TTL_MS = 2_000;

/** A key found valid: its hash, name, the limits it carries, and its organization as read. */
export interface ValidKey {
  org: Organization;
  secretHash: string;
  keyName: string;
  models?: string[];
  monthlyBudgetUsd?: number;
}

export interface CredentialCheckDeps {
  keys: Pick<ApiKeyStore, "get">;
  orgs: Pick<OrganizationStore, "get">;
  clock?: Clock;
  ttlMs?: number;
}

/**
 * Is a key still allowed to act: it exists and is not revoked, and its organization is active. Reads
 * both with strong consistency; a positive answer (with the key's hash and its organization) is reused
 * for `ttlMs`, a negative one is final (revocation and closing cannot be undone). Used by HTTP
 * authentication, WebSocket frames and token redemption alike.
 */
export function createCredentialCheck({ keys, orgs, clock = systemClock, ttlMs = CREDENTIAL_CHECK_TTL_MS }: CredentialCheckDeps) {
  // The organization is kept with the answer: its tier and rate limits come with it, without a read.
  const validUntil = new Map<string, ValidKey & { until: number }>();
  const MAX_CACHED = 10_000;

  /** The key's hash, name and organization if the key is still valid, else undefined. */
  async function validKey(orgId: string, keyId: string): Promise<ValidKey | undefined> {
    const cacheKey = `${orgId}/${keyId}`;
    const now = clock.now().getTime();
    const cached = validUntil.get(cacheKey);
    if (cached && cached.until > now) return cached;
    const [record, org] = await Promise.all([keys.get(orgId, keyId), orgs.get(orgId)]);
    validUntil.delete(cacheKey);
    if (!record || record.revokedAt || !org || org.status !== "active") return undefined;
    const limits = { ...(record.models ? { models: record.models } : {}), ...(record.monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd: record.monthlyBudgetUsd } : {}) };
    if (ttlMs <= 0) return { org, secretHash: record.secretHash, keyName: record.name, ...limits };
    if (validUntil.size >= MAX_CACHED) validUntil.delete(validUntil.keys().next().value!);
    const entry = { until: now + ttlMs, org, secretHash: record.secretHash, keyName: record.name, ...limits };
    validUntil.set(cacheKey, entry);
    return entry;
  }

  /** The key's organization if the key is still valid, else undefined. */
  async function validOrg(orgId: string, keyId: string): Promise<Organization | undefined> {
    return (await validKey(orgId, keyId))?.org;
  }

  return {
    async stillValid(orgId: string, keyId: string): Promise<boolean> {
      return (await validKey(orgId, keyId)) !== undefined;
    },
    validKey,
    validOrg,
    /**
     * Drop what this instance remembers about an organization (or one of its keys) after changing it:
     * revoked, closed, or given another tier or limits.
     */
    forget(orgId: string, keyId?: string): void {
      if (keyId) validUntil.delete(`${orgId}/${keyId}`);
      else for (const cacheKey of [...validUntil.keys()]) if (cacheKey.startsWith(`${orgId}/`)) validUntil.delete(cacheKey);
    },
  };
}

export type CredentialCheck = ReturnType<typeof createCredentialCheck>;
