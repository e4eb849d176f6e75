import { isRateLimitExceeded, type LimitState } from "../../core/ratelimit/limiter";

/**
 * The IETF `RateLimit-Policy` and `RateLimit` response fields (draft-ietf-httpapi-ratelimit-headers-11:
 * Structured Field Lists of Items, a policy name with parameters), one item per policy the request
 * went through:
 *
 *     RateLimit-Policy: "api-key";q=100;w=10, "organization";q=200;w=10
 *     RateLimit: "api-key";r=99;t=1, "organization";r=199;t=1
 *
 * `q` is the bucket's size and `w` the seconds an empty bucket takes to refill (for chat, the minute);
 * `r` is what is left now and `t` the seconds until one more unit is back (0: the bucket is full).
 * Token policies say `qu="tokens"` (a unit the draft's registry does not list yet). No partition key
 * (`pk`): the policy names already tell the caller which of its quotas each item is.
 */
export function rateLimitHeaders(states: readonly LimitState[]): Record<string, string> {
  if (!states.length) return {};
  // A policy appears once per field; a later state of the same policy is the more recent one.
  const byName = new Map<string, LimitState>();
  for (const state of states) byName.set(state.policy.name, state);
  const items = [...byName.values()];
  return {
    "ratelimit-policy": items
      .map(({ policy }) => `"${policy.name}";q=${policy.burst};w=${policy.windowSeconds}${policy.unit === "tokens" ? ';qu="tokens"' : ""}`)
      .join(", "),
    ratelimit: items.map(({ policy, remaining, resetSeconds }) => `"${policy.name}";r=${remaining};t=${resetSeconds}`).join(", "),
  };
}

/** The states to report for a failed request: those it was admitted under, and those of a 429. */
export function statesOf(admitted: readonly LimitState[], error: unknown): LimitState[] {
  return isRateLimitExceeded(error) ? [...admitted, ...error.states] : [...admitted];
}
