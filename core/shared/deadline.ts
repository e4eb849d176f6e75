/**
 * Deadlines of model calls. A function runs until a deadline it does not choose (Lambda kills it at
 * its timeout, 29 s for API functions and 5 minutes for streaming ones); a model call that outlives it
 * never settles nor releases its budget reservation. So every attempt at a model is bounded by the
 * time the invocation has left, minus what must still happen after it: the fallback to the other tier
 * (while one is possible) and the settlement. Core only sees an absolute deadline (epoch ms); the
 * functions layer derives it from the invocation's context (functions/lib/invocation.ts).
 */

/** What an invocation keeps back after its model calls, and the least worth attempting. */
export const DEADLINE_RESERVES = {
  /** Settling or releasing the reservation (one DynamoDB transaction, with the SDK's own retries). */
  settleMs: 1_500,
  /** Left to the fallback tier by the first attempt, when the time left allows both. */
  fallbackMs: 5_000,
  /** An attempt shorter than this is not made: no model answers in less, and it would only cost. */
  minAttemptMs: 1_000,
} as const;

/**
 * How long a reservation may stay open when its caller gave no deadline: Lambda's longest timeout. A
 * reservation older than its caller's deadline plus this grace belongs to an invocation that is gone.
 */
export const MAX_INVOCATION_MS = 15 * 60 * 1_000;
export const RESERVATION_GRACE_MS = 60 * 1_000;

/** Milliseconds until `deadline` (Infinity without one, never negative). */
export function timeLeft(deadline: number | undefined, now: number = Date.now()): number {
  return deadline === undefined ? Number.POSITIVE_INFINITY : Math.max(0, deadline - now);
}

/**
 * The time one attempt at a model may take, or `undefined` when there is no time for it. `fallbackNext`:
 * another attempt would follow a failure of this one; it is left `fallbackMs` when the time allows both,
 * else this attempt gets everything and the fallback will be skipped.
 *
 * Infinity means no deadline: the provider's configured per-call timeout alone bounds the call.
 */
export function attemptBudget(deadline: number | undefined, fallbackNext: boolean, now: number = Date.now()): number | undefined {
  const usable = timeLeft(deadline, now) - DEADLINE_RESERVES.settleMs;
  if (usable < DEADLINE_RESERVES.minAttemptMs) return undefined;
  if (fallbackNext && usable - DEADLINE_RESERVES.fallbackMs >= DEADLINE_RESERVES.minAttemptMs) return usable - DEADLINE_RESERVES.fallbackMs;
  return usable;
}

/** When a reservation made under `deadline` is surely abandoned (its invocation is over), epoch ms. */
export function reservationExpiry(deadline: number | undefined, now: number = Date.now()): number {
  return (deadline ?? now + MAX_INVOCATION_MS) + RESERVATION_GRACE_MS;
}
