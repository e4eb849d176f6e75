import { describe, expect, it } from "vitest";
import { RECONNECT_BACKOFF, reconnectDelay } from "../../../web/src/lib/backoff";

/** The dashboard WebSocket's reconnect schedule (web/src/lib/backoff.ts), with the jitter pinned. */

const lowest = () => 0;
const highest = () => 0.999999;

describe("reconnectDelay", () => {
  it("doubles from the base up to the cap: the lower edge is half the ceiling, the upper edge the ceiling", () => {
    const low = Array.from({ length: 8 }, (_, attempt) => reconnectDelay(attempt, RECONNECT_BACKOFF, lowest));
    const high = Array.from({ length: 8 }, (_, attempt) => reconnectDelay(attempt, RECONNECT_BACKOFF, highest));

    expect(low).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    expect(high).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it("spreads retries of the same attempt across the upper half of the ceiling (jitter)", () => {
    const draws = [0.1, 0.5, 0.9].map((r) => reconnectDelay(3, RECONNECT_BACKOFF, () => r));
    expect(draws).toEqual([4_400, 6_000, 7_600]);
  });

  it("stays at the cap however many attempts failed, and treats odd attempt numbers as the first", () => {
    expect(reconnectDelay(10_000, RECONNECT_BACKOFF, highest)).toBe(RECONNECT_BACKOFF.capMs);
    expect(reconnectDelay(-3, RECONNECT_BACKOFF, lowest)).toBe(RECONNECT_BACKOFF.baseMs / 2);
    expect(reconnectDelay(Number.NaN, RECONNECT_BACKOFF, lowest)).toBe(RECONNECT_BACKOFF.baseMs / 2);
  });

  it("follows a custom schedule", () => {
    expect([0, 1, 2, 3].map((a) => reconnectDelay(a, { baseMs: 100, capMs: 300 }, highest))).toEqual([100, 200, 300, 300]);
  });
});
