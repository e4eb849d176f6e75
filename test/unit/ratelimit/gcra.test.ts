import { describe, expect, it } from "vitest";
import { gcra, perMinutePolicy, perSecondPolicy, retryAfterSeconds, stateOf, type RatePolicy } from "../../../core/ratelimit/gcra";

const MS = 1_000; // microseconds
const S = 1_000_000;

/** Runs requests through one bucket on a fake clock (µs), keeping the TAT as a store would. */
function bucket(policy: RatePolicy) {
  let tat: number | undefined;
  return {
    take(now: number, cost = 1) {
      const step = gcra(policy, tat, now, cost);
      if (step.allowed) tat = step.tat;
      return step;
    },
    get tat() {
      return tat;
    },
  };
}

describe("GCRA", () => {
  const tenPerSecond = perSecondPolicy("org", 10, 5);
  const t0 = 1_700_000_000 * S;

  it("lets a full burst through at once, then refuses", () => {
    const b = bucket(tenPerSecond);

    const steps = Array.from({ length: 6 }, () => b.take(t0));

    expect(steps.map((s) => s.allowed)).toEqual([true, true, true, true, true, false]);
    expect(steps.slice(0, 5).map((s) => s.remaining)).toEqual([4, 3, 2, 1, 0]);
  });

  it("says exactly when the next request can pass", () => {
    const b = bucket(tenPerSecond);
    for (let i = 0; i < 5; i++) b.take(t0);

    const refused = b.take(t0 + 30 * MS);

    expect(refused).toMatchObject({ allowed: false, remaining: 0 });
    // One emission interval (100 ms) after the burst, minus the 30 ms already waited.
    expect(!refused.allowed && refused.retryAfter).toBe(70 * MS);
    expect(b.take(t0 + 100 * MS - 1).allowed).toBe(false);
    expect(b.take(t0 + 100 * MS).allowed).toBe(true);
  });

  it("holds the steady rate after the burst: one request per emission interval", () => {
    const b = bucket(tenPerSecond);
    for (let i = 0; i < 5; i++) b.take(t0);

    const admitted = Array.from({ length: 100 }, (_, i) => b.take(t0 + i * 10 * MS)).filter((s) => s.allowed);

    // 100 attempts 10 ms apart span 990 ms: one per 100 ms, at 100, 200, ..., 900 ms.
    expect(admitted).toHaveLength(9);
  });

  it("refills while idle, up to the burst and no further", () => {
    const b = bucket(tenPerSecond);
    for (let i = 0; i < 5; i++) b.take(t0);

    const afterQuarterSecond = b.take(t0 + 250 * MS);
    const longAfter = Array.from({ length: 6 }, () => b.take(t0 + 60 * S));

    expect(afterQuarterSecond).toMatchObject({ allowed: true, remaining: 1 });
    expect(longAfter.map((s) => s.allowed)).toEqual([true, true, true, true, true, false]);
  });

  it("charges a request its cost in units: tokens per minute", () => {
    const tokens = perMinutePolicy("chat-tokens", 600, "tokens"); // 10 tokens a second, 600 at once
    const b = bucket(tokens);

    const first = b.take(t0, 400);
    const second = b.take(t0, 300);
    const smaller = b.take(t0, 200);

    expect(first).toMatchObject({ allowed: true, remaining: 200 });
    expect(second.allowed).toBe(false);
    // 100 tokens short at 10 tokens a second.
    expect(!second.allowed && second.retryAfter).toBe(10 * S);
    expect(second.remaining).toBe(200);
    expect(smaller).toMatchObject({ allowed: true, remaining: 0 });
  });

  it("can never admit a request that costs more than the bucket holds", () => {
    const step = gcra(perMinutePolicy("chat-tokens", 1_000, "tokens"), undefined, t0, 1_001);

    expect(step.allowed).toBe(false);
    expect(!step.allowed && step.retryAfter).toBe(Number.POSITIVE_INFINITY);
  });

  it("treats an absent TAT and one in the past as a full bucket", () => {
    expect(stateOf(tenPerSecond, undefined, t0)).toEqual({ remaining: 5, resetSeconds: 0 });
    expect(stateOf(tenPerSecond, t0 - S, t0)).toEqual({ remaining: 5, resetSeconds: 0 });
  });

  it("reports the seconds until one more unit is back (the RateLimit header's t), at least 1 while not full", () => {
    const slow = perSecondPolicy("org", 0.1, 3); // one every 10 s
    const b = bucket(slow);
    b.take(t0);
    b.take(t0);
    const last = b.take(t0);

    expect(last).toMatchObject({ allowed: true, remaining: 0, resetSeconds: 10 });
    expect(stateOf(slow, b.tat, t0 + 4 * S)).toEqual({ remaining: 0, resetSeconds: 6 });
    expect(stateOf(slow, b.tat, t0 + 10 * S)).toEqual({ remaining: 1, resetSeconds: 10 });
    const refused = b.take(t0 + 4 * S);
    expect(!refused.allowed && retryAfterSeconds(refused.retryAfter)).toBe(6);
  });

  it("rounds Retry-After up to whole seconds, never below 1", () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1 * S)).toBe(1);
    expect(retryAfterSeconds(1 * S + 1)).toBe(2);
  });

  it("advertises q = burst over the seconds an empty bucket takes to refill", () => {
    expect(perSecondPolicy("org", 20, 200)).toMatchObject({ burst: 200, windowSeconds: 10 });
    expect(perSecondPolicy("org", 3, 10)).toMatchObject({ windowSeconds: 4 });
    expect(perSecondPolicy("org", 50, 10)).toMatchObject({ windowSeconds: 1 });
    expect(perMinutePolicy("chat-requests", 7, "requests")).toMatchObject({ burst: 7, windowSeconds: 60 });
  });

  it("keeps the TAT in whole microseconds, so stored values compare exactly", () => {
    const third = perSecondPolicy("org", 3, 2);
    const b = bucket(third);
    b.take(t0);
    b.take(t0);

    expect(Number.isInteger(b.tat)).toBe(true);
    expect(b.tat).toBe(t0 + 2 * 333_333);
  });
});
