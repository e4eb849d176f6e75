import { DomainError, invalidInput } from "../errors";
import { type Clock, systemClock } from "../shared/clock";
import { type BucketState, type RatePolicy, emissionInterval, gcra, MICROS_PER_SECOND, retryAfterSeconds, stateOf, tolerance } from "./gcra";
import type { BucketRef, RateLimitStore } from "./ports";

/** One bucket a request must fit into, and how many units of it the request takes. */
export interface LimitCheck {
  ref: BucketRef;
  policy: RatePolicy;
  /** Units this request takes (1 for a request; the estimated tokens for chat tokens per minute). */
  cost?: number;
}

/** A policy and its bucket's state after a request: what the RateLimit headers report. */
export interface LimitState extends BucketState {
  policy: RatePolicy;
}

/**
 * 429 `rate_limited`: a bucket had no room. Carries the states of the buckets checked, for the
 * `RateLimit` headers; `retryAfterSeconds` (in the problem document too) becomes `Retry-After`.
 */
export class RateLimitExceeded extends DomainError {
  constructor(
    readonly states: LimitState[],
    violated: RatePolicy,
    retryAfterMicros: number,
  ) {
    const seconds = retryAfterSeconds(retryAfterMicros);
    super("rate_limited", "rate_limited", `Rate limit exceeded: ${violated.description ?? violated.name}. Retry after ${seconds} s.`, {
      policy: violated.name,
      limit: violated.burst,
      retryAfterSeconds: seconds,
      // draft-ietf-httpapi-ratelimit-headers' problem member naming the exceeded policies.
      "violated-policies": [violated.name],
    });
    this.name = "RateLimitExceeded";
  }
}

export const isRateLimitExceeded = (error: unknown): error is RateLimitExceeded => error instanceof RateLimitExceeded;

export interface RateLimiterDeps {
  store: RateLimitStore;
  clock?: Clock;
  /** Buckets whose last known TAT this process remembers (the deny cache); least recently used go first. */
  cacheSize?: number;
  /** Conditional writes per bucket and request before giving up (each failed one reports the fresh TAT). */
  maxAttempts?: number;
}

/** Keep a bucket item this long after it is full again: absent and full mean the same, so TTL may remove it. */
const EXPIRY_MARGIN_SECONDS = 60;

/** A bucket's TTL (epoch seconds): once it is full again at `fullAt` (µs), plus the margin. */
const expiryOf = (fullAt: number): number => Math.ceil(fullAt / MICROS_PER_SECOND) + EXPIRY_MARGIN_SECONDS;

/** How long units leased by one process stay usable (microseconds); unused ones are forfeited. */
export const LEASE_MICROS = 100_000;
/** Most units one lease takes. */
export const MAX_LEASE_UNITS = 50;
/** Times a request waits for its process's lease to be taken before it writes for itself. */
const LEASE_ROUNDS = 4;

/**
 * How many units a process takes from a busy bucket in one write: what the policy refills in
 * LEASE_MICROS, at most a tenth of the bucket and MAX_LEASE_UNITS, and 1 (no lease: every request is
 * its own exact write) for buckets slower than 20 units a second.
 */
export function leaseSize(policy: RatePolicy): number {
  return Math.max(1, Math.min(MAX_LEASE_UNITS, Math.floor(policy.burst / 10), Math.floor((policy.ratePerSecond * LEASE_MICROS) / MICROS_PER_SECOND)));
}

/**
 * The rate limiter: GCRA buckets (./gcra.ts) in a store, with a per-process cache of each bucket's last
 * known TAT.
 *
 * The cache is a deny cache that is exact. A stored TAT never moves backwards (both writes only move it
 * later; TTL only removes a bucket that is full anyway), so the TAT this process last saw is a lower
 * bound of the stored one, and GCRA refuses more as the TAT grows: if the remembered TAT already refuses
 * a request, the store would too. Such requests are refused without any write, so a flood costs one
 * write per process each time a refusal's retry time has passed, not one per request. Only refusals
 * are decided locally; every admission is a conditional write, exact under any concurrency.
 *
 * A changed limit applies to the next request: the policy comes with each request, the bucket only
 * holds a time. A bucket left with more debt than the new policy's whole bucket (say, a near-zero
 * rate was lifted) is cut to an empty bucket at the new limit, which then refills at the new rate.
 */
export function createRateLimiter({ store, clock = systemClock, cacheSize = 10_000, maxAttempts = 4 }: RateLimiterDeps) {
  const known = new Map<string, number>();
  /** Units this process took from a bucket ahead of its requests, usable until `expiresAt` (µs); `pending` while being taken. */
  const leases = new Map<string, { units: number; expiresAt: number; pending: Promise<void> | undefined }>();
  const keyOf = (ref: BucketRef) => `${ref.orgId}/${ref.bucket}`;
  const remember = (ref: BucketRef, tat: number | undefined) => {
    const key = keyOf(ref);
    const previous = known.get(key);
    known.delete(key);
    // Concurrent requests of this process may report out of order: keep the later (higher) TAT.
    const latest = Math.max(previous ?? Number.NEGATIVE_INFINITY, tat ?? Number.NEGATIVE_INFINITY);
    if (Number.isFinite(latest)) known.set(key, latest);
    while (known.size > cacheSize) known.delete(known.keys().next().value as string);
  };

  /** Now, in microseconds. */
  const clockNow = () => clock.now().getTime() * 1000;

  /**
   * Takes `cost` units from one bucket: at most `maxAttempts` conditional writes, none when the known
   * TAT already refuses.
   *
   * Which time a retry judges by matters. A refused write reports a TAT set by a request that may have
   * read the clock after this one: judged by this request's older time, the bucket looks fuller than it
   * is, so a retry reads the clock afresh. But when the store said "busy" (its TAT is after the time we
   * wrote with), the retry must be the write for a busy bucket, even if by the fresh time that TAT has
   * already passed (a slow store, a write queue longer than one emission interval): otherwise two
   * requests can keep restarting the bucket in turn and neither gets through. So it judges by the
   * fresh time, but at most a microsecond before the reported TAT. Judging by an earlier time is only
   * ever stricter (less has refilled), never more generous.
   */
  async function take(check: LimitCheck) {
    const { ref, policy } = check;
    const cost = check.cost ?? 1;
    const increment = cost * emissionInterval(policy);
    let tat = known.get(keyOf(ref));
    let now = clockNow();
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const full = now + tolerance(policy);
      const expiresAt = expiryOf(full);
      if (tat !== undefined && tat > full) {
        // More debt than this policy's whole bucket: written under a slower or larger limit that the
        // operator has since changed. Cut it to an empty bucket at the new limit, which then refills
        // at its own rate (no unit is granted by this, so nothing is overrun).
        const result = await store.rebase(ref, { from: tat, to: full, expiresAt });
        remember(ref, result.tat);
        tat = result.tat;
        now = Math.max(now, clockNow());
        continue;
      }
      const step = gcra(policy, tat, now, cost);
      // `tat` is the stored TAT or a lower bound of it: a refusal here is the store's refusal too.
      if (!step.allowed) return step;
      // Which of the two writes fits depends on whether the bucket is busy; a wrong guess costs one
      // refused write, which reports the stored TAT for the next attempt.
      const result =
        tat !== undefined && tat > now
          ? await store.advance(ref, { now, increment, atMost: full - increment, expiresAt })
          : await store.restart(ref, { now, next: step.tat, expiresAt });
      remember(ref, result.tat);
      if (result.ok) return { allowed: true as const, tat: result.tat, ...stateOf(policy, result.tat, now) };
      // What this process knows now may be later than this answer (other requests' answers came in
      // meanwhile): a bucket that filled up meanwhile is then refused without another write.
      tat = known.get(keyOf(ref)) ?? result.tat;
      const busy = tat !== undefined && tat > now;
      const fresh = Math.max(now, clockNow());
      now = busy ? Math.min(fresh, tat! - 1) : fresh;
    }
    // Other requests kept taking the units that came free between our attempts (a flood at the edge of
    // a full bucket): refuse rather than write on. Nothing is available to this request, so it reports
    // none, and to come back when the next unit is due.
    const interval = emissionInterval(policy);
    return { allowed: false as const, retryAfter: interval, remaining: 0, resetSeconds: Math.max(1, Math.ceil(interval / MICROS_PER_SECOND)) };
  }

  /**
   * Takes one request's unit, from this process's lease on the bucket when it holds one. Without a
   * lease, one write takes a lease of `leaseSize` units (fitted to what the bucket is known to hold, so
   * a bucket with room for one request is never refused for want of a whole lease): the request uses
   * one, and this process's other requests use the rest without writing, for LEASE_MICROS. Requests
   * that arrive while a lease is being taken wait for it instead of writing too (a bounded number of
   * rounds; then each writes for itself, exactly as without leases).
   *
   * Still never more than the limit: leased units are counted in the bucket when taken, i.e. as if
   * their requests had all come at once, earlier than they do (GCRA only gets stricter with earlier
   * arrivals), and units a lease does not use are forfeited, never returned. The price is that a
   * bucket shared by several processes may admit a little less than its limit. A tenant at a few
   * hundred requests a second then costs a write per lease instead of one per request.
   */
  async function takeLeased(check: LimitCheck) {
    const key = keyOf(check.ref);
    for (let round = 0; round < LEASE_ROUNDS; round++) {
      const now = clockNow();
      const lease = leases.get(key);
      if (lease && lease.units > 0 && lease.expiresAt > now) {
        lease.units -= 1;
        const state = stateOf(check.policy, known.get(key), now);
        return { allowed: true as const, remaining: Math.min(check.policy.burst, state.remaining + lease.units), resetSeconds: state.resetSeconds };
      }
      if (lease?.pending) {
        await lease.pending;
        continue;
      }
      return acquire(check, key, now);
    }
    return take(check);
  }

  /**
   * Gives back one check's units (a request admitted by this bucket but refused by an earlier one):
   * a leased unit returns to this process's lease while it lasts; otherwise the stored TAT moves back
   * by the units' interval, only while the bucket is still busy (an idle bucket is full anyway).
   * Best effort: a refund that fails leaves the bucket stricter, never more generous.
   */
  async function refund(check: LimitCheck): Promise<void> {
    const cost = check.cost ?? 1;
    const key = keyOf(check.ref);
    const now = clockNow();
    const lease = leases.get(key);
    if (cost === 1 && lease && !lease.pending && lease.expiresAt > now) {
      lease.units += 1;
      return;
    }
    const expiresAt = expiryOf(now + tolerance(check.policy));
    const result = await store.advance(check.ref, { now, increment: -cost * emissionInterval(check.policy), atMost: Number.MAX_SAFE_INTEGER, expiresAt }).catch(() => undefined);
    if (result?.ok) known.set(key, result.tat);
  }

  /** One write for a lease: this request's unit plus the units the next requests of this process use. */
  async function acquire(check: LimitCheck, key: string, now: number) {
    let size = leaseSize(check.policy);
    if (size > 1) {
      const tat = known.get(key);
      const room = Math.floor((now + tolerance(check.policy) - Math.max(tat ?? now, now)) / emissionInterval(check.policy));
      size = Math.max(1, Math.min(size, room));
    }
    if (size === 1) return take(check);
    let release!: () => void;
    const entry = { units: 0, expiresAt: now + LEASE_MICROS, pending: new Promise<void>((resolve) => (release = resolve)) as Promise<void> | undefined };
    leases.set(key, entry);
    while (leases.size > cacheSize) leases.delete(leases.keys().next().value as string);
    try {
      let step = await take({ ...check, cost: size });
      // The store knew the bucket fuller than this process did: a single unit may still fit.
      if (!step.allowed) {
        size = 1;
        step = await take({ ...check, cost: 1 });
      }
      if (!step.allowed) return step;
      entry.units = size - 1;
      entry.expiresAt = clockNow() + LEASE_MICROS;
      return { ...step, remaining: Math.min(check.policy.burst, step.remaining + entry.units) };
    } finally {
      entry.pending = undefined;
      release();
    }
  }

  return {
    /**
     * Admits a request into every bucket of `checks`, in order, or throws `RateLimitExceeded` (429).
     * Buckets known to be empty refuse before anything is written. A request refused by a later bucket
     * keeps the units it took from earlier ones: order the checks so that the narrower bucket (a key's)
     * comes before the shared one (its organization's), so a noisy key cannot drain its organization.
     * A request that costs more than a bucket holds can never pass: 400 `exceeds_rate_limit`.
     *
     * `together`: the buckets are written at once, one round trip instead of one per bucket, with the
     * same outcome: when a bucket refuses, the buckets after it give back the units they took (GCRA
     * is additive: taking a unit and giving it back leaves the bucket as it was), at the price of that
     * one extra write. Only while the earlier buckets are known to be less than half used; otherwise
     * (a tenant near its limit) in order, as without the option.
     */
    async admit(checks: LimitCheck[], options: { together?: boolean } = {}): Promise<LimitState[]> {
      for (const { policy, cost = 1 } of checks) {
        if (cost > policy.burst) {
          throw invalidInput(
            `This request needs ${cost} ${policy.unit}, more than the ${policy.name} limit lets through at once (${policy.burst}); make it smaller.`,
            [{ field: policy.unit === "tokens" ? "max_tokens" : "(request)", message: `at most ${policy.burst} ${policy.unit} including the input` }],
            "exceeds_rate_limit",
          );
        }
      }
      const now = clockNow();
      for (const check of checks) {
        // Units this process leased are its own: the stored TAT already counts them.
        const lease = leases.get(keyOf(check.ref));
        if ((check.cost ?? 1) === 1 && lease && lease.units > 0 && lease.expiresAt > now) continue;
        const tat = known.get(keyOf(check.ref));
        // A bucket fuller than its policy allows (its limit was changed) is left to `take`, which cuts it down.
        if (tat !== undefined && tat > now + tolerance(check.policy)) continue;
        const step = gcra(check.policy, tat, now, check.cost ?? 1);
        if (!step.allowed) throw new RateLimitExceeded([{ policy: check.policy, ...stateOf(check.policy, tat, now) }], check.policy, step.retryAfter);
      }
      const states: LimitState[] = [];
      const takeOne = (check: LimitCheck) => ((check.cost ?? 1) === 1 ? takeLeased(check) : take(check));
      // Together only while every bucket but the last is known to have room to spare: a refusal (and
      // its refunds, extra writes) is then unlikely. A bucket near its limit (a flood) goes in order,
      // so its refusals cost the later buckets nothing.
      const roomy = checks.slice(0, -1).every((check) => stateOf(check.policy, known.get(keyOf(check.ref)), now).remaining * 2 > check.policy.burst);
      if (options.together && roomy) {
        const steps = await Promise.all(checks.map(takeOne));
        const refused = steps.findIndex((step) => !step.allowed);
        if (refused < 0) return steps.map((step, i): LimitState => ({ policy: checks[i]!.policy, remaining: step.remaining, resetSeconds: step.resetSeconds }));
        // As if taken in order: the buckets after the one that refused give their units back.
        await Promise.all(checks.map((check, i) => (i > refused && steps[i]!.allowed ? refund(check) : undefined)));
        const seen = steps.slice(0, refused + 1).map((step, i): LimitState => ({ policy: checks[i]!.policy, remaining: step.remaining, resetSeconds: step.resetSeconds }));
        throw new RateLimitExceeded(seen, checks[refused]!.policy, (steps[refused] as { retryAfter: number }).retryAfter);
      }
      for (const check of checks) {
        const step = await takeOne(check);
        const state: LimitState = { policy: check.policy, remaining: step.remaining, resetSeconds: step.resetSeconds };
        if (!step.allowed) throw new RateLimitExceeded([...states, state], check.policy, step.retryAfter);
        states.push(state);
      }
      return states;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
