import { describe, expect, it } from "vitest";
import { defaultWeights, type CalibrationCurve } from "../../../core/routing/classifier";
import {
  BALANCED_THRESHOLD,
  decide,
  INDUSTRIES,
  INDUSTRY_THRESHOLDS,
  InvalidRoutingRequest,
  thresholdForLlmShare,
  thresholdForQualityFloor,
  type Industry,
} from "../../../core/routing/policy";

// A curve small enough to interpolate by hand.
const curve: CalibrationCurve = {
  basis: "test",
  points: [
    { threshold: 0, llmShare: 1, pgr: 1 },
    { threshold: 0.5, llmShare: 0.4, pgr: 0.8 },
    { threshold: 1, llmShare: 0, pgr: 0 },
  ],
};

/** LLM share of the shipped curve at a threshold, by the same linear interpolation. */
function shareAt(c: CalibrationCurve, t: number): number {
  const p = c.points;
  for (let i = 1; i < p.length; i++) {
    const a = p[i - 1]!;
    const b = p[i]!;
    if (t >= a.threshold && t <= b.threshold) return a.llmShare + ((t - a.threshold) * (b.llmShare - a.llmShare)) / (b.threshold - a.threshold);
  }
  return p[p.length - 1]!.llmShare;
}

describe("industry defaults", () => {
  it("lean finance and healthcare to the LLM and tech and retail to the SLM", () => {
    // Act
    const t = (industry: Industry) => decide({ score: 0.5, industry }).threshold!;

    // Assert
    expect(t("finance")).toBeLessThan(t("other"));
    expect(t("healthcare")).toBeLessThan(t("other"));
    expect(t("other")).toBeLessThan(t("tech"));
    expect(t("other")).toBeLessThan(t("retail"));
    for (const balanced of ["manufacturing", "education", "government", "other"] as const) expect(t(balanced)).toBe(BALANCED_THRESHOLD);
    expect(Object.keys(INDUSTRY_THRESHOLDS).sort()).toEqual([...INDUSTRIES].sort());
  });

  it("sends the same middling query to the LLM for finance and to the SLM for tech", () => {
    // Act
    const finance = decide({ score: 0.45, industry: "finance" });
    const tech = decide({ score: 0.45, industry: "tech" });

    // Assert
    expect(finance).toEqual({ tier: "llm", threshold: 0.4, reason: { code: "industry_default", detail: "finance threshold 0.40" } });
    expect(tech.tier).toBe("slm");
    expect(tech.reason.code).toBe("industry_default");
  });

  it("routes a score equal to the threshold to the LLM", () => {
    expect(decide({ score: BALANCED_THRESHOLD, industry: "other" }).tier).toBe("llm");
    expect(decide({ score: BALANCED_THRESHOLD - 1e-9, industry: "other" }).tier).toBe("slm");
  });
});

describe("overrides", () => {
  it("turn routing off with a fixed tier whatever the score", () => {
    // Act
    const low = decide({ score: 0, industry: "retail", override: { mode: "fixed", tier: "llm" } });
    const high = decide({ score: 1, industry: "finance", override: { mode: "fixed", tier: "slm" } });

    // Assert
    expect(low).toEqual({ tier: "llm", threshold: null, reason: { code: "override_fixed", detail: "routing off, fixed tier llm" } });
    expect(high.tier).toBe("slm");
  });

  it("apply a fixed threshold over the industry default and over calibration", () => {
    // Act
    const d = decide({
      score: 0.7,
      industry: "healthcare",
      override: { mode: "threshold", threshold: 0.8 },
      calibration: { targetLlmShare: 1 },
    });

    // Assert
    expect(d).toEqual({ tier: "slm", threshold: 0.8, reason: { code: "override_threshold", detail: "override threshold 0.80" } });
  });

  it("says when a threshold override was calibrated from the tenant's feedback", () => {
    const d = decide({ score: 0.42, industry: "other", override: { mode: "threshold", threshold: 0.4, source: "feedback" } });

    expect(d).toEqual({ tier: "llm", threshold: 0.4, reason: { code: "override_threshold", detail: "threshold 0.40 calibrated from feedback" } });
  });
});

describe("calibration", () => {
  it("interpolates the threshold for a target LLM share on a known curve", () => {
    expect(thresholdForLlmShare(curve, 0.7)).toBeCloseTo(0.25, 12);
    expect(thresholdForLlmShare(curve, 0.4)).toBeCloseTo(0.5, 12);
    expect(thresholdForLlmShare(curve, 0.2)).toBeCloseTo(0.75, 12);
    expect(thresholdForLlmShare(curve, 1)).toBe(0);
    expect(thresholdForLlmShare(curve, 0)).toBe(1);
  });

  it("finds the highest threshold that still meets a quality floor on a known curve", () => {
    expect(thresholdForQualityFloor(curve, 0.9)).toBeCloseTo(0.25, 12);
    expect(thresholdForQualityFloor(curve, 0.8)).toBeCloseTo(0.5, 12);
    expect(thresholdForQualityFloor(curve, 0.4)).toBeCloseTo(0.75, 12);
    expect(thresholdForQualityFloor(curve, 0)).toBe(1);
  });

  it("picks thresholds that give roughly the target share on the shipped curve", () => {
    const shipped = defaultWeights.calibration;
    for (const target of [0.1, 0.3, 0.5, 0.8]) {
      // Act
      const d = decide({ score: 0.5, industry: "other", calibration: { targetLlmShare: target } });

      // Assert
      expect(d.reason.code).toBe("calibrated_llm_share");
      expect(shareAt(shipped, d.threshold!)).toBeCloseTo(target, 2);
    }
  });

  it("needs more LLM calls (a lower threshold) for a higher quality floor on the shipped curve", () => {
    // Act
    const strict = decide({ score: 0.5, industry: "other", calibration: { qualityFloor: 0.9 } });
    const loose = decide({ score: 0.5, industry: "other", calibration: { qualityFloor: 0.5 } });

    // Assert
    expect(strict.reason.code).toBe("calibrated_quality_floor");
    expect(strict.threshold!).toBeLessThan(loose.threshold!);
    // The point just below the strict threshold measured at least the floor.
    const below = defaultWeights.calibration.points.filter((p) => p.threshold <= strict.threshold!).at(-1)!;
    expect(below.pgr).toBeGreaterThanOrEqual(0.9);
  });

  it("uses a curve passed in instead of the shipped one", () => {
    const d = decide({ score: 0.3, industry: "other", calibration: { targetLlmShare: 0.7, curve } });
    expect(d).toEqual({
      tier: "llm",
      threshold: expect.closeTo(0.25, 12),
      reason: { code: "calibrated_llm_share", detail: "threshold 0.25 for target LLM share 70%" },
    });
  });
});

describe("invalid requests", () => {
  it("throw InvalidRoutingRequest with a stable code", () => {
    const bad: (() => unknown)[] = [
      () => decide({ score: 1.2, industry: "other" }),
      () => decide({ score: Number.NaN, industry: "other" }),
      () => decide({ score: 0.5, industry: "constructor" as Industry }),
      () => decide({ score: 0.5, industry: "other", override: { mode: "threshold", threshold: -0.1 } }),
      () => decide({ score: 0.5, industry: "other", calibration: { targetLlmShare: 2 } }),
      () => decide({ score: 0.5, industry: "other", calibration: { qualityFloor: 0.5, curve: { basis: "x", points: [] } } }),
    ];
    for (const call of bad) {
      expect(call).toThrow(InvalidRoutingRequest);
      try {
        call();
      } catch (error) {
        expect((error as InvalidRoutingRequest).code).toBe("routing_request_invalid");
      }
    }
  });
});
