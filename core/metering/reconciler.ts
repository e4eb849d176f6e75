import { type Clock, periodOf, systemClock } from "../shared/clock";
import type { MeteringStore } from "./ports";

export interface ReconcileOptions {
  metering: MeteringStore;
  clock?: Clock;
  /** Time the run has left (its function's remaining time); it stops taking work `marginMs` before the end. */
  remainingMs?: () => number;
  marginMs?: number;
  /**
   * Usage items read per query, and queries per run at most: a run is bounded whatever the backlog (in
   * practice by its time: a run starts over from the first index shard, so the page bound is set
   * far above what the time allows, half a million organizations a period).
   */
  pageSize?: number;
  maxPages?: number;
}

export interface ReconcileReport {
  /** Reservations this run gave back, and their sum. */
  released: number;
  releasedMicroUsd: number;
  /** Expired reservations found but closed by someone else first (a late settle or release, another run). */
  alreadyClosed: number;
  pages: number;
  /** False when the run stopped at its time or page bound with work left: the next run goes on. */
  complete: boolean;
}

const DAY_MS = 24 * 60 * 60 * 1_000;

/**
 * Releases the budget reservations that their invocations left open: an invocation killed between
 * reserve and settle (Lambda's timeout, a crash, a lost container) can neither settle nor release, and
 * its reservation would count against the organization's budget for the rest of the month.
 *
 * Each open reservation carries an expiry (its invocation's deadline plus a grace, core/shared/deadline.ts)
 * and is found through the usage index of its period. It is released by one conditional update that
 * removes it and subtracts its amount (MeteringStore.releaseExpired), so racing a late settle, a release
 * or another run, it is given back exactly once. Reservations are at most ~16 minutes old when they
 * expire, so only the current period and, in its first day, the previous one are read.
 */
export async function reconcileReservations({
  metering,
  clock = systemClock,
  remainingMs = () => Number.POSITIVE_INFINITY,
  marginMs = 5_000,
  pageSize = 500,
  maxPages = 1_000,
}: ReconcileOptions): Promise<ReconcileReport> {
  const now = clock.now().getTime();
  const periods = [...new Set([periodOf(new Date(now - DAY_MS)), periodOf(new Date(now))])];
  const report: ReconcileReport = { released: 0, releasedMicroUsd: 0, alreadyClosed: 0, pages: 0, complete: true };
  const timeIsUp = () => remainingMs() < marginMs;
  for (const period of periods) {
    let cursor: string | undefined;
    do {
      if (report.pages >= maxPages || timeIsUp()) {
        report.complete = false;
        return report;
      }
      const page = await metering.expiredReservations(period, now, { limit: pageSize, ...(cursor ? { cursor } : {}) });
      report.pages += 1;
      for (const reservation of page.items) {
        if (timeIsUp()) {
          report.complete = false;
          return report;
        }
        if (await metering.releaseExpired(reservation, now)) {
          report.released += 1;
          report.releasedMicroUsd += reservation.amountMicroUsd;
        } else report.alreadyClosed += 1;
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return report;
}
