import { describe, expect, it } from "vitest";
import { apgr, cpt, evaluateRouter, quantileSorted, randomBaseline, routingCurve } from "../../../core/routing/train/metrics";

// Ten prompts scored 1..10; the two highest-scored are the only ones where the strong model is
// right and the weak one wrong, so S = 1.0, W = 0.8 and the curve is known by hand.
const scores = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const strong = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1];
const weak = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];

describe("quantileSorted", () => {
  it("interpolates linearly between order statistics like numpy/pandas", () => {
    // Arrange
    const sorted = [1, 2, 3, 4];

    // Act / Assert
    expect(quantileSorted(sorted, 0.5)).toBe(2.5);
    expect(quantileSorted(sorted, 1 / 3)).toBe(2);
    expect(quantileSorted(sorted, 0)).toBe(1);
    expect(quantileSorted(sorted, 1)).toBe(4);
  });
});

describe("routingCurve", () => {
  it("has 11 decile points from all-strong to all-weak with the RouteLLM >= / > rule", () => {
    // Act
    const curve = routingCurve(scores, strong, weak);

    // Assert
    expect(curve.map((p) => p.strongShare)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(curve.map((p) => p.pgr)).toEqual([0, 0.5, 1, 1, 1, 1, 1, 1, 1, 1, 1].map((x) => expect.closeTo(x, 12)));
    expect(curve[0]!.threshold).toBe(10); // last qcut edge: "> max" sends nobody to the strong model
    expect(curve[10]!.threshold).toBe(1);
    expect(curve[9]!.threshold).toBeCloseTo(1.9, 12);
  });
});

describe("APGR and CPT", () => {
  it("match hand-computed values for a good router", () => {
    // Act
    const e = evaluateRouter(scores, strong, weak);

    // Assert: area = 0.1 * (0.25 + 0.75 + 8) = 0.9
    expect(e.apgr).toBeCloseTo(0.9, 12);
    expect(e.cpt50).toBeCloseTo(0.1, 12);
    expect(e.cpt80).toBeCloseTo(0.16, 12); // 0.1 + (0.8 - 0.5) / (1 - 0.5) * 0.1
    expect(e.strongQuality).toBe(1);
    expect(e.weakQuality).toBe(0.8);
  });

  it("match hand-computed values for the reversed router", () => {
    // Act
    const e = evaluateRouter(
      scores.map((s) => -s),
      strong,
      weak,
    );

    // Assert: PGR is 0 until 90% strong calls, 0.5 at 90%, 1 at 100%
    expect(e.apgr).toBeCloseTo(0.1, 12);
    expect(e.cpt50).toBeCloseTo(0.9, 12);
    expect(e.cpt80).toBeCloseTo(0.96, 12);
  });

  it("give 0.5 for a constant router (all ties)", () => {
    // Act
    const e = evaluateRouter([0.3, 0.3, 0.3, 0.3], [1, 1, 0, 1], [0, 1, 0, 0]);

    // Assert: one point at 0% strong (PGR 0), ten at 100% (PGR 1)
    expect(e.curve).toHaveLength(11);
    expect(e.apgr).toBeCloseTo(0.5, 12);
    expect(e.cpt50).toBeCloseTo(0.5, 12);
  });

  it("take the first crossing when PGR dips below zero (strong model loses on the top prompt)", () => {
    // Arrange: score 10 is a strong loss, 9 and 8 are strong gains, the rest are ties; S 0.9, W 0.8
    const s = [1, 1, 1, 1, 1, 1, 1, 1, 1, 0];
    const w = [1, 1, 1, 1, 1, 1, 1, 0, 0, 1];

    // Act
    const e = evaluateRouter(scores, s, w);

    // Assert: PGR = 0, -1, 0, 1, 1, ... ; area = 0.1 * (-0.5 - 0.5 + 0.5 + 7)
    expect(e.curve.map((p) => p.pgr).slice(0, 4)).toEqual([0, -1, 0, 1].map((x) => expect.closeTo(x, 12)));
    expect(e.apgr).toBeCloseTo(0.65, 12);
    expect(e.cpt50).toBeCloseTo(0.25, 12);
  });

  it("apgr and cpt work on a curve given directly", () => {
    // Arrange
    const curve = [
      { threshold: 1, strongShare: 0, quality: 0.5, pgr: 0 },
      { threshold: 0.5, strongShare: 0.5, quality: 0.9, pgr: 0.8 },
      { threshold: 0, strongShare: 1, quality: 1, pgr: 1 },
    ];

    // Act / Assert: area = 0.5 * (0.5 + 0.9) / 2 + 0.5 * (0.9 + 1) / 2 = 0.825 -> (0.825 - 0.5) / 0.5
    expect(apgr(curve, 1, 0.5)).toBeCloseTo(0.65, 12);
    expect(cpt(curve, 0.4)).toBeCloseTo(0.25, 12);
    expect(cpt(curve, 0.9)).toBeCloseTo(0.75, 12);
  });

  it("rejects mismatched inputs", () => {
    expect(() => routingCurve([1, 2], [1], [0, 0])).toThrow(RangeError);
  });
});

describe("randomBaseline", () => {
  it("is close to APGR 0.5, CPT(50%) 50%, CPT(80%) 80% and reproducible", () => {
    // Arrange
    const n = 2000;
    const s = Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0 : 1));
    const w = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? 0 : 1));

    // Act
    const a = randomBaseline(s, w, 20, 1);
    const b = randomBaseline(s, w, 20, 1);

    // Assert
    expect(a).toEqual(b);
    expect(a.apgr).toBeGreaterThan(0.47);
    expect(a.apgr).toBeLessThan(0.53);
    expect(a.cpt50).toBeGreaterThan(0.45);
    expect(a.cpt50).toBeLessThan(0.55);
    expect(a.cpt80).toBeGreaterThan(0.75);
    expect(a.cpt80).toBeLessThan(0.85);
  });
});
