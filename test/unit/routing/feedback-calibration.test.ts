import { describe, expect, it } from "vitest";
import {
  bestSeparation,
  calibrateFromFeedback,
  labelOf,
  LLM_UP_WEIGHT,
  MAX_STEP,
  MAX_THRESHOLD,
  MIN_FEEDBACK,
  MIN_THRESHOLD,
  PRIOR_WEIGHT,
  type FeedbackSample,
} from "../../../core/routing/feedback-calibration";

/** `n` items of one verdict, scores spread evenly over [from, to]. */
function many(n: number, from: number, to: number, verdict: Omit<FeedbackSample, "score">): FeedbackSample[] {
  return Array.from({ length: n }, (_, i) => ({ ...verdict, score: n === 1 ? from : from + ((to - from) * i) / (n - 1) }));
}

/** A small deterministic generator, so the property tests need no seed library and replay exactly. */
function lcg(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe("labels of feedback items", () => {
  it("reads SLM downs and explicit flags as needing the LLM, SLM ups and explicit 'not needed' as SLM enough", () => {
    expect(labelOf({ score: 0.3, tier: "slm", rating: "down" })).toEqual({ needsLlm: true, weight: 1 });
    expect(labelOf({ score: 0.3, tier: "slm", rating: "up" })).toEqual({ needsLlm: false, weight: 1 });
    expect(labelOf({ score: 0.3, tier: "slm", rating: "up", neededLargeModel: true })).toEqual({ needsLlm: true, weight: 1 });
    expect(labelOf({ score: 0.7, tier: "llm", rating: "up", neededLargeModel: true })).toEqual({ needsLlm: true, weight: 1 });
    expect(labelOf({ score: 0.7, tier: "llm", rating: "down", neededLargeModel: false })).toEqual({ needsLlm: false, weight: 1 });
    expect(labelOf({ score: 0.7, tier: "llm", rating: "up" })).toEqual({ needsLlm: false, weight: LLM_UP_WEIGHT });
  });

  it("ignores LLM downs without the flag and decisions without a score (pinned model, routing off)", () => {
    expect(labelOf({ score: 0.7, tier: "llm", rating: "down" })).toBeNull();
    expect(labelOf({ score: null, tier: "slm", rating: "down", neededLargeModel: true })).toBeNull();
  });
});

describe("calibration from feedback", () => {
  it("does not move with fewer than the minimum of counted items, however one-sided they are", () => {
    const samples = many(MIN_FEEDBACK - 1, 0.3, 0.45, { tier: "slm", rating: "down", neededLargeModel: true });
    // Items that say nothing do not count toward the minimum.
    samples.push(...many(10, 0.6, 0.9, { tier: "llm", rating: "down" }));

    const result = calibrateFromFeedback(samples, 0.5);

    expect(result).toMatchObject({ threshold: 0.5, moved: 0, counted: MIN_FEEDBACK - 1, outcome: "too_little_feedback" });
  });

  it("never steps further than MAX_STEP, also from a threshold with more than 4 decimals", () => {
    // Seen with the router's v2 weights: 0.58751637 - 0.1 rounded to 0.4875 was a step of 0.10001637.
    const current = 0.58751637;
    const samples = many(MIN_FEEDBACK * 4, 0.1, 0.2, { tier: "slm", rating: "down", neededLargeModel: true });
    const down = calibrateFromFeedback(samples, current);
    expect(current - down.threshold).toBeLessThanOrEqual(MAX_STEP);
    expect(down.threshold).toBe(0.4876);
    const up = calibrateFromFeedback(many(MIN_FEEDBACK * 4, 0.85, 0.95, { tier: "llm", rating: "up" }), 0.41248363);
    expect(up.threshold - 0.41248363).toBeLessThanOrEqual(MAX_STEP);
  });

  it("moves down when SLM answers keep needing the LLM, shrunk toward the current threshold and by at most one step", () => {
    // 20 SLM decisions at 0.44..0.48 all needed the LLM: the best separation is below 0.44.
    const samples = many(MIN_FEEDBACK, 0.44, 0.48, { tier: "slm", rating: "down", neededLargeModel: true });

    const result = calibrateFromFeedback(samples, 0.5);

    expect(result.estimate).toBeLessThan(0.44);
    // w = 20 / (20 + 20) = 0.5: half way to the estimate, then at most MAX_STEP.
    const halfWay = 0.5 + (MIN_FEEDBACK / (MIN_FEEDBACK + PRIOR_WEIGHT)) * (result.estimate! - 0.5);
    expect(result.threshold).toBeCloseTo(Math.max(halfWay, 0.5 - MAX_STEP), 4);
    expect(result.threshold).toBeLessThan(0.44);
    expect(result.outcome).toBe("moved");
    expect(result.moved).toBeCloseTo(result.threshold - 0.5, 4);
  });

  it("moves up when the SLM answers were fine and LLM answers say the small model would have done", () => {
    const samples = [
      ...many(15, 0.2, 0.45, { tier: "slm", rating: "up" }),
      ...many(10, 0.55, 0.62, { tier: "llm", rating: "up", neededLargeModel: false }),
      ...many(5, 0.8, 0.9, { tier: "llm", rating: "up", neededLargeModel: true }),
    ];

    const result = calibrateFromFeedback(samples, 0.5);

    expect(result.estimate).toBeGreaterThan(0.62);
    expect(result.estimate).toBeLessThan(0.8);
    expect(result.threshold).toBeGreaterThan(0.5);
    expect(result.threshold).toBeLessThanOrEqual(0.5 + MAX_STEP);
  });

  it("stays put when the current threshold already separates the verdicts", () => {
    const samples = [...many(20, 0.1, 0.4, { tier: "slm", rating: "up" }), ...many(20, 0.6, 0.9, { tier: "llm", rating: "up", neededLargeModel: true })];

    const result = calibrateFromFeedback(samples, 0.5);

    expect(result).toMatchObject({ threshold: 0.5, moved: 0, estimate: 0.5, outcome: "no_change" });
  });

  it("shrinks less with more evidence: the same verdicts, three times as many, move the threshold further", () => {
    // SLM fine up to 0.40, not from 0.45: the best separation is 0.425, 0.075 away (under one step).
    const sample = (n: number) => [...many(n, 0.2, 0.4, { tier: "slm", rating: "up" }), ...many(n, 0.45, 0.49, { tier: "slm", rating: "down" })];
    const few = calibrateFromFeedback(sample(10), 0.5);
    const more = calibrateFromFeedback(sample(30), 0.5);

    expect(few.estimate).toBeCloseTo(0.425, 10);
    expect(more.estimate).toBe(few.estimate);
    expect(few.threshold).toBeCloseTo(0.5 + (20 / (20 + PRIOR_WEIGHT)) * (0.425 - 0.5), 4);
    expect(more.threshold).toBeCloseTo(0.5 + (60 / (60 + PRIOR_WEIGHT)) * (0.425 - 0.5), 4);
    expect(more.threshold).toBeLessThan(few.threshold);
    expect(more.threshold).toBeGreaterThan(0.425);
  });

  it("keeps the threshold within its band and its step, from any start", () => {
    const down = many(200, 0.1, 0.12, { tier: "slm", rating: "down" });
    const up = many(200, 0.88, 0.9, { tier: "llm", rating: "up", neededLargeModel: false });

    // A threshold set by hand outside the band is brought into it.
    expect(calibrateFromFeedback(down, 0.01).threshold).toBe(MIN_THRESHOLD);
    expect(calibrateFromFeedback(up, 0.99).threshold).toBe(MAX_THRESHOLD);
    expect(calibrateFromFeedback(down, 0.5).threshold).toBeCloseTo(0.5 - MAX_STEP, 10);
    expect(calibrateFromFeedback(up, 0.5).threshold).toBeCloseTo(0.5 + MAX_STEP, 10);
    // Scores below the band cannot be separated inside it: no candidate does better, so no move.
    const belowBand = many(200, 0.01, 0.02, { tier: "slm", rating: "down" });
    expect(calibrateFromFeedback(belowBand, 0.1)).toMatchObject({ threshold: 0.1, outcome: "no_change" });
  });

  it("is monotonic: turning any verdict toward 'needed the LLM' never raises the threshold", () => {
    const random = lcg(13);
    for (let round = 0; round < 200; round++) {
      const current = 0.2 + random() * 0.6;
      const samples: FeedbackSample[] = Array.from({ length: MIN_FEEDBACK + Math.floor(random() * 40) }, () => ({
        score: Math.round(random() * 100) / 100,
        tier: random() < 0.5 ? "slm" : "llm",
        rating: random() < 0.5 ? "up" : "down",
        ...(random() < 0.3 ? { neededLargeModel: random() < 0.5 } : {}),
      }));
      // Flip one item that says "SLM enough" (with full weight, so the counted weight stays) to "needed the LLM".
      const index = samples.findIndex((s) => labelOf(s)?.needsLlm === false && labelOf(s)?.weight === 1);
      if (index < 0) continue;
      const flipped = samples.map((s, i) => (i === index ? { ...s, neededLargeModel: true } : s));

      const before = calibrateFromFeedback(samples, current);
      const after = calibrateFromFeedback(flipped, current);

      expect(after.threshold, `round ${round}`).toBeLessThanOrEqual(before.threshold);
      expect(after.estimate!, `round ${round}`).toBeLessThanOrEqual(before.estimate!);
    }
  });

  it("places a new threshold between scores, not on one", () => {
    const labelled = [0.3, 0.4].map((score) => ({ score, label: { needsLlm: true, weight: 1 } }));

    expect(bestSeparation(labelled, 0.5)).toBeCloseTo((MIN_THRESHOLD + 0.3) / 2, 10);
  });
});
