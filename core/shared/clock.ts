/** A source of time, injectable so tests can control the clock (SLA and period logic). */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** The billing period of a date: calendar month in UTC, `YYYY-MM`. */
export const periodOf = (date: Date): string => date.toISOString().slice(0, 7);

/** First instant of the next period (when monthly quotas and budgets reset), ISO-8601. */
export const periodResetsAt = (date: Date): string =>
  new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1)).toISOString();
