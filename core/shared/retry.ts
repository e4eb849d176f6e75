import { conflict } from "../errors";

/** Waits `ms` milliseconds. */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A full-jitter backoff before attempt n + 1: uniformly up to 10·2^n ms, capped at `capMs`, so that
 * writers that collided once do not collide again in lockstep. Every bounded retry of the code base
 * (conditional writes here, transactions in core/db/transact.ts) waits this way.
 */
export const fullJitterMs = (n: number, capMs = Number.POSITIVE_INFINITY): number => Math.random() * Math.min(capMs, 10 * 2 ** n);

export interface RetryOptions {
  /** Attempts before giving up with 409 `concurrent_modification`. */
  attempts: number;
  /** The 409's message: what kept changing. */
  gaveUp: string;
  /** Waits between attempts; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs a read-decide-write until its conditional write goes through. `attempt` reads, decides and
 * writes; it returns undefined when the write lost to a concurrent change, and is then run again on
 * fresh reads, after a full-jitter backoff (up to 10·2^n ms), at most `attempts` times in all. A
 * decision is always made on the state it is written over; only losing every time is a 409.
 */
export async function untilWritten<T>(attempt: (n: number) => Promise<T | undefined>, { attempts, gaveUp, sleep = pause }: RetryOptions): Promise<T> {
  for (let n = 1; ; n++) {
    const result = await attempt(n);
    if (result !== undefined) return result;
    if (n >= attempts) throw conflict(gaveUp, "concurrent_modification");
    await sleep(fullJitterMs(n));
  }
}
