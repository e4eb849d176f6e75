/**
 * When the dashboard's WebSocket tries again after losing its connection: exponential backoff with
 * jitter, capped. Pure, so the schedule is unit-tested (test/unit/web/backoff.test.ts).
 */

export interface Backoff {
  /** The ceiling of the first retry (ms); each failed attempt doubles it. */
  baseMs: number;
  /** No retry waits longer than this (ms). */
  capMs: number;
}

/**
 * 1 s, 2 s, 4 s, ... up to 30 s. The cap keeps a dashboard that lost its network for a while from
 * waiting minutes after it is back; the jitter keeps every open dashboard from reconnecting at the
 * same instant after an outage (or a deploy) closed them all at once.
 */
export const RECONNECT_BACKOFF: Backoff = { baseMs: 1_000, capMs: 30_000 };

/**
 * The wait before retry number `attempt` (0 for the first): "equal jitter", a uniformly random point
 * in the upper half of min(cap, base * 2^attempt). Never less than half the ceiling, so retries stay
 * spaced out; never more than the cap. `random` returns [0, 1), as Math.random does.
 */
export function reconnectDelay(attempt: number, backoff: Backoff = RECONNECT_BACKOFF, random: () => number = Math.random): number {
  const n = Number.isNaN(attempt) ? 0 : Math.max(0, Math.floor(attempt));
  // 2 ** n overflows to Infinity for large n, which the cap then absorbs.
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** n);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
