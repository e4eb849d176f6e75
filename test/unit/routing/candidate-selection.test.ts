import { describe, expect, it } from "vitest";
import { DENSE_FEATURES } from "../../../core/routing/features";
import { chooseCandidate, FEATURE_GROUPS, type SourceApgr } from "../../../core/routing/train/pipeline";

const apgr = (mmlu: number, gsm8k: number, arenahard: number): SourceApgr => ({ mmlu, gsm8k, arenahard, alpacaeval: Number.NaN });

describe("chooseCandidate", () => {
  it("guarded: the best Arena-Hard among candidates at or above the reference on MMLU and GSM8K", () => {
    // Arrange: #1 has the best Arena-Hard but loses GSM8K; #2 and #3 hold both benchmarks.
    const grid = [apgr(0.645, 0.64, 0.47), apgr(0.65, 0.63, 0.5), apgr(0.645, 0.641, 0.48), apgr(0.646, 0.64, 0.485)];

    // Act / Assert
    expect(chooseCandidate(grid, "guarded")).toBe(3);
    expect(chooseCandidate(grid, "mean")).toBe(1);
  });

  it("guarded: keeps the reference when every other candidate loses a benchmark", () => {
    const grid = [apgr(0.645, 0.64, 0.47), apgr(0.644, 0.66, 0.5), apgr(0.66, 0.639, 0.5)];
    expect(chooseCandidate(grid, "guarded")).toBe(0);
  });

  it("guarded: a benchmark the reference has no figure for sets no floor; without Arena-Hard it ranks by the mean", () => {
    // Trained without MMLU (cross-source run): only GSM8K guards.
    const noMmlu = [apgr(Number.NaN, 0.6, 0.47), apgr(Number.NaN, 0.61, 0.49), apgr(Number.NaN, 0.59, 0.52)];
    expect(chooseCandidate(noMmlu, "guarded")).toBe(1);
    // Trained without Arena-Hard: the mean over MMLU and GSM8K among those that hold the floor.
    const noArena = [apgr(0.64, 0.6, Number.NaN), apgr(0.65, 0.61, Number.NaN), apgr(0.66, 0.59, Number.NaN)];
    expect(chooseCandidate(noArena, "guarded")).toBe(1);
  });
});

describe("FEATURE_GROUPS", () => {
  it("partitions exactly the dense features version 2 added", () => {
    const grouped = Object.values(FEATURE_GROUPS).flat();
    const v2 = DENSE_FEATURES.slice(DENSE_FEATURES.indexOf("kw_story"));
    expect(new Set(grouped).size).toBe(grouped.length);
    expect([...grouped].sort()).toEqual([...v2].sort());
  });
});
