import { describe, expect, it } from "vitest";
import { attemptBudget, DEADLINE_RESERVES, MAX_INVOCATION_MS, RESERVATION_GRACE_MS, reservationExpiry, timeLeft } from "../../../core/shared/deadline";

const { settleMs, fallbackMs, minAttemptMs } = DEADLINE_RESERVES;
const NOW = 1_000_000;

describe("attemptBudget", () => {
  it("has no bound without a deadline (the configured per-call timeout alone applies)", () => {
    expect(attemptBudget(undefined, true, NOW)).toBe(Number.POSITIVE_INFINITY);
    expect(timeLeft(undefined, NOW)).toBe(Number.POSITIVE_INFINITY);
  });

  it("keeps the settlement's time back, and the fallback's while both fit", () => {
    const deadline = NOW + 29_000;
    expect(attemptBudget(deadline, true, NOW)).toBe(29_000 - settleMs - fallbackMs);
    expect(attemptBudget(deadline, false, NOW)).toBe(29_000 - settleMs);
  });

  it("gives the first attempt everything when the fallback would not fit too (the fallback is then skipped)", () => {
    const deadline = NOW + settleMs + fallbackMs + minAttemptMs - 1;
    expect(attemptBudget(deadline, true, NOW)).toBe(fallbackMs + minAttemptMs - 1);
  });

  it("refuses an attempt shorter than the least worth making, and a deadline already past", () => {
    expect(attemptBudget(NOW + settleMs + minAttemptMs - 1, false, NOW)).toBeUndefined();
    expect(attemptBudget(NOW + settleMs + minAttemptMs, false, NOW)).toBe(minAttemptMs);
    expect(attemptBudget(NOW - 5_000, true, NOW)).toBeUndefined();
    expect(timeLeft(NOW - 5_000, NOW)).toBe(0);
  });
});

describe("reservationExpiry", () => {
  it("is the deadline plus a grace, or Lambda's longest run plus the grace without a deadline", () => {
    expect(reservationExpiry(NOW + 29_000, NOW)).toBe(NOW + 29_000 + RESERVATION_GRACE_MS);
    expect(reservationExpiry(undefined, NOW)).toBe(NOW + MAX_INVOCATION_MS + RESERVATION_GRACE_MS);
  });
});
