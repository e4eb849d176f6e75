/**
 * GCRA, the generic cell rate algorithm: a token bucket stored as one number, the "theoretical arrival
 * time" (TAT) at which the bucket would be full again. Pure: no clock, no storage (the limiter in
 * ./limiter.ts brings both). Reasoning and alternatives: docs/rate-limiting.md.
 *
 * A policy lets `ratePerSecond` units through on average with bursts of up to `burst` units. Each unit
 * moves the TAT `T = 1 / rate` later ("emission interval"); a request of `cost` units at time `now`
 * passes when `max(TAT, now) + cost·T - now <= burst·T`, i.e. when its units still fit in the bucket.
 * An absent TAT, or one in the past, is a full bucket, which is why state can expire with a TTL. A TAT
 * beyond `now + burst·T` cannot arise under one policy; it means the policy changed, and the limiter
 * cuts such a bucket down before asking this module (./limiter.ts).
 *
 * Time is in integer microseconds: one unit of a 2,000,000 tokens-per-minute policy is 30 µs, and
 * integers keep the values DynamoDB compares exact (a µs epoch stays below 2^53 until the year 2255).
 */

/** One policy, as advertised in `RateLimit-Policy` and enforced on one bucket. */
export interface RatePolicy {
  /** The policy's name in the RateLimit headers (`organization`, `api-key`, `chat-requests`, `chat-tokens`). */
  name: string;
  /** Average units per second. */
  ratePerSecond: number;
  /** Most units that may pass at once (the bucket's size). */
  burst: number;
  /** What a unit is: a request, or a model token (chat tokens per minute). */
  unit: "requests" | "tokens";
  /** The window advertised with the quota (`q=burst;w=windowSeconds`): how long an empty bucket takes to refill. */
  windowSeconds: number;
  /** For people: "10 requests per second (bursts of 20) for the organization". */
  description?: string;
}

export const MICROS_PER_SECOND = 1_000_000;

/** Microseconds each unit moves the TAT (at least 1 µs). */
export const emissionInterval = (policy: RatePolicy): number =>
  Math.max(1, Math.round(MICROS_PER_SECOND / policy.ratePerSecond));

/** How far the TAT may run ahead of now: the whole bucket, in microseconds. */
export const tolerance = (policy: RatePolicy): number => emissionInterval(policy) * policy.burst;

/** The live state of a bucket for the `RateLimit` header. */
export interface BucketState {
  /** Units available now (`r`). */
  remaining: number;
  /**
   * Seconds until one more unit is available (`t`, rounded up; 0 when the bucket is full): within
   * that window the client can use no more than `remaining`, which is what the header's effective
   * window promises.
   */
  resetSeconds: number;
}

export type GcraOutcome =
  | ({ allowed: true; /** The TAT to store. */ tat: number } & BucketState)
  | ({ allowed: false; /** Microseconds until a request of this cost could pass. */ retryAfter: number } & BucketState);

/** The state of a bucket whose TAT is `tat` (undefined: never used or expired) at `now`. */
export function stateOf(policy: RatePolicy, tat: number | undefined, now: number): BucketState {
  const interval = emissionInterval(policy);
  const debt = Math.max(0, (tat ?? now) - now);
  const room = tolerance(policy) - debt;
  const remaining = Math.max(0, Math.floor(room / interval));
  if (remaining >= policy.burst) return { remaining: policy.burst, resetSeconds: 0 };
  // The next unit is free once the debt has shrunk to (burst - remaining - 1) intervals.
  const wait = debt - (tolerance(policy) - (remaining + 1) * interval);
  return { remaining, resetSeconds: Math.max(1, Math.ceil(wait / MICROS_PER_SECOND)) };
}

/**
 * One GCRA step: may a request of `cost` units pass at `now` given the stored `tat`, and what is the
 * new TAT? A cost above the burst can never pass (`retryAfter` is then Infinity); callers reject such
 * a request as invalid rather than asking the client to wait forever.
 */
export function gcra(policy: RatePolicy, tat: number | undefined, now: number, cost = 1): GcraOutcome {
  const interval = emissionInterval(policy);
  const next = Math.max(tat ?? now, now) + cost * interval;
  const limit = now + tolerance(policy);
  if (next <= limit) return { allowed: true, tat: next, ...stateOf(policy, next, now) };
  const retryAfter = cost > policy.burst ? Number.POSITIVE_INFINITY : next - limit;
  return { allowed: false, retryAfter, ...stateOf(policy, tat, now) };
}

/** Seconds for a `Retry-After` header: whole seconds, rounded up, at least 1. */
export const retryAfterSeconds = (micros: number): number => Math.max(1, Math.ceil(micros / MICROS_PER_SECOND));

/**
 * A policy of `ratePerSecond` with a `burst`, advertised as `q=burst` over the time the bucket takes to
 * refill (rounded up to a whole second, as the header field requires).
 */
export function perSecondPolicy(name: string, ratePerSecond: number, burst: number, description?: string): RatePolicy {
  return {
    name,
    ratePerSecond,
    burst,
    unit: "requests",
    windowSeconds: Math.max(1, Math.ceil(burst / ratePerSecond - 1e-9)),
    ...(description ? { description } : {}),
  };
}

/** A per-minute policy as OpenAI states them: `perMinute` units a minute, all of them usable at once. */
export function perMinutePolicy(name: string, perMinute: number, unit: RatePolicy["unit"], description?: string): RatePolicy {
  return { name, ratePerSecond: perMinute / 60, burst: perMinute, unit, windowSeconds: 60, ...(description ? { description } : {}) };
}
