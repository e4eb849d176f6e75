import { createApiKeyStore } from "../../../core/db/api-key.repository";
import { createOrganizationStore } from "../../../core/db/organization.repository";
import { createRateLimitStore } from "../../../core/db/rate-limit.repository";
import { createRateLimiter } from "../../../core/ratelimit/limiter";
import { createRateLimits } from "../../../core/ratelimit/rate-limits";
import { createAuthenticator, createCredentialCheck, createIdentifier } from "../../../core/tenants/api-keys";
import { lazy } from "./lazy";
import { table } from "./table";

/**
 * What every authenticated function needs before its route runs: who is calling (keys and their
 * organizations, with the credential check's short cache) and whether they may (rate limits).
 */
export const access = lazy(() => {
  const { config: cfg, options } = table();
  const orgStore = createOrganizationStore(options);
  const keyStore = createApiKeyStore(options);
  // Keys known valid, for at most CREDENTIAL_CHECK_TTL_MS (HTTP, WebSocket frames, tokens alike).
  const credentials = createCredentialCheck({ keys: keyStore, orgs: orgStore });
  const identity = { keys: keyStore, orgs: orgStore, operatorKeySha256: cfg.operatorKeySha256, credentials };
  return {
    orgStore,
    keyStore,
    credentials,
    // One limiter per warm instance: its deny cache and leases live as long as the instance (core/ratelimit/limiter.ts).
    rateLimits: createRateLimits({ limiter: createRateLimiter({ store: createRateLimitStore(options) }), orgs: orgStore, credentials }),
    authenticate: createAuthenticator(identity),
    /** Like `authenticate`, with the organization it read (its tier and rate limits). */
    identify: createIdentifier(identity),
  };
});
