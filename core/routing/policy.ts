/**
 * Routing policy: turns a classifier score into a tier. Pure (no I/O, no clock): the same input
 * always gives the same decision, so decisions can be replayed from the audit log.
 *
 * A query goes to the LLM when `score >= threshold`. The threshold comes from, in order:
 * 1. `override` — `{ mode: "fixed", tier }` turns routing off; `{ mode: "threshold", threshold }`;
 * 2. `calibration` — `{ targetLlmShare }` or `{ qualityFloor }`, turned into a threshold with the
 *    calibration curve measured on held-out folds (weights.json, or the `curve` passed in);
 * 3. the industry default, `INDUSTRY_THRESHOLDS`.
 *
 * Scores are on the classifier's percentile scale (0.6 = harder than ~60% of the training mix), so
 * with the shipped curve the defaults mean, measured on held-out folds of the MMLU + GSM8K + Arena-Hard
 * mix (each weighing a third; see core/routing/README.md, which also gives each source's PGR):
 *
 * | industry | threshold | LLM share | PGR |
 * |---|---|---|---|
 * | healthcare | 0.35 | ~64% | ~0.68 |
 * | finance | 0.40 | ~58% | ~0.61 |
 * | manufacturing, education, government, other | 0.50 | ~49% | ~0.51 |
 * | tech | 0.60 | ~40% | ~0.41 |
 * | retail | 0.65 | ~35% | ~0.38 |
 */
import { defaultWeights, type CalibrationCurve, type CalibrationPoint } from "./classifier";

export type { CalibrationCurve, CalibrationPoint } from "./classifier";

export const INDUSTRIES = ["finance", "healthcare", "tech", "retail", "manufacturing", "education", "government", "other"] as const;

export type Industry = (typeof INDUSTRIES)[number];

export type Tier = "slm" | "llm";

/** The threshold of industries with no lean (and of `npm run route:score`). */
export const BALANCED_THRESHOLD = 0.5;

/**
 * Default threshold per industry. Finance and healthcare lean to the LLM (a wrong answer costs more
 * than a large-model call); tech and retail lean to the SLM (high volume, mostly routine questions;
 * tech users also tolerate a retry); the rest are balanced.
 */
export const INDUSTRY_THRESHOLDS: Readonly<Record<Industry, number>> = {
  healthcare: 0.35,
  finance: 0.4,
  manufacturing: BALANCED_THRESHOLD,
  education: BALANCED_THRESHOLD,
  government: BALANCED_THRESHOLD,
  other: BALANCED_THRESHOLD,
  tech: 0.6,
  retail: 0.65,
};

/** Per-organization override of the industry default. */
export type RoutingOverride =
  /** Routing off: every query goes to `tier`. */
  | { mode: "fixed"; tier: Tier }
  /** A fixed score threshold in [0, 1]; `source: "feedback"` when calibrated from the tenant's feedback. */
  | { mode: "threshold"; threshold: number; source?: "feedback" };

/**
 * Calibration request: derive the threshold from the measured curve.
 * - `targetLlmShare` (0..1): the threshold at which that share of the (training-mix) traffic goes
 *   to the LLM;
 * - `qualityFloor` (0..1): the highest threshold (fewest LLM calls) whose measured PGR is at least
 *   the floor.
 * `curve` defaults to the one shipped in weights.json.
 */
export type CalibrationTarget =
  | { targetLlmShare: number; curve?: CalibrationCurve }
  | { qualityFloor: number; curve?: CalibrationCurve };

export interface DecideInput {
  /** Classifier score in [0, 1]. */
  score: number;
  industry: Industry;
  override?: RoutingOverride;
  calibration?: CalibrationTarget;
}

/** Machine-readable reason codes; `detail` is the human text. */
export type ReasonCode =
  | "industry_default"
  | "override_fixed"
  | "override_threshold"
  | "calibrated_llm_share"
  | "calibrated_quality_floor";

export interface RoutingReason {
  code: ReasonCode;
  detail: string;
}

export interface RoutingDecision {
  tier: Tier;
  /** The threshold applied; null when routing is off (`mode: "fixed"`). */
  threshold: number | null;
  reason: RoutingReason;
}

/** A request the policy cannot decide (score out of range, unknown industry, bad override or curve). */
export class InvalidRoutingRequest extends Error {
  readonly code = "routing_request_invalid";
  constructor(message: string) {
    super(message);
    this.name = "InvalidRoutingRequest";
  }
}

function checkUnit(name: string, x: unknown): number {
  if (typeof x !== "number" || !(x >= 0 && x <= 1)) throw new InvalidRoutingRequest(`${name} must be a number in [0, 1], got ${String(x)}`);
  return x;
}

function checkCurve(curve: CalibrationCurve): readonly CalibrationPoint[] {
  const points = curve.points;
  if (points.length < 2) throw new InvalidRoutingRequest("calibration curve needs at least two points");
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (!(b.threshold > a.threshold) || !(b.llmShare <= a.llmShare) || !Number.isFinite(b.pgr)) {
      throw new InvalidRoutingRequest(`calibration curve is not ordered at point ${i} (thresholds up, LLM shares down)`);
    }
  }
  return points;
}

function lerp(x: number, x0: number, x1: number, y0: number, y1: number): number {
  return x1 === x0 ? y0 : y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
}

/**
 * Threshold that sends `share` of the traffic to the LLM, interpolated linearly on the curve;
 * clamped to the curve's first and last thresholds.
 */
export function thresholdForLlmShare(curve: CalibrationCurve, share: number): number {
  checkUnit("targetLlmShare", share);
  const points = checkCurve(curve);
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (share >= first.llmShare) return first.threshold;
  if (share <= last.llmShare) return last.threshold;
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (share <= a.llmShare && share >= b.llmShare) return lerp(share, a.llmShare, b.llmShare, a.threshold, b.threshold);
  }
  return last.threshold;
}

/**
 * Highest threshold (fewest LLM calls) whose PGR is at least `floor`: walking down from the top
 * threshold, the first point that reaches the floor, interpolated against its neighbour above (the
 * CPT rule of the evaluation, expressed as a threshold).
 */
export function thresholdForQualityFloor(curve: CalibrationCurve, floor: number): number {
  checkUnit("qualityFloor", floor);
  const points = checkCurve(curve);
  const top = points[points.length - 1]!;
  if (top.pgr >= floor) return top.threshold;
  for (let i = points.length - 2; i >= 0; i--) {
    const a = points[i]!;
    const above = points[i + 1]!;
    if (a.pgr >= floor) return lerp(floor, above.pgr, a.pgr, above.threshold, a.threshold);
  }
  return points[0]!.threshold;
}

/** The industry's default threshold. */
export function industryThreshold(industry: Industry): number {
  // hasOwn: "constructor" or "__proto__" must not resolve through the prototype.
  const t = Object.hasOwn(INDUSTRY_THRESHOLDS, industry) ? INDUSTRY_THRESHOLDS[industry] : undefined;
  if (t === undefined) throw new InvalidRoutingRequest(`unknown industry "${String(industry)}" (one of ${INDUSTRIES.join(", ")})`);
  return t;
}

const fmt = (x: number): string => x.toFixed(2);
const pct = (x: number): string => `${Math.round(x * 100)}%`;

/**
 * Decides the tier of one query.
 *
 * @throws InvalidRoutingRequest for a score outside [0, 1], an unknown industry, or an override or
 *   calibration value out of range
 */
export function decide(input: DecideInput): RoutingDecision {
  const score = checkUnit("score", input.score);
  const base = industryThreshold(input.industry);
  const { override, calibration } = input;
  const tierAt = (threshold: number): Tier => (score >= threshold ? "llm" : "slm");

  if (override) {
    if (override.mode === "fixed") {
      if (override.tier !== "slm" && override.tier !== "llm") throw new InvalidRoutingRequest(`fixed tier must be slm or llm, got ${String(override.tier)}`);
      return { tier: override.tier, threshold: null, reason: { code: "override_fixed", detail: `routing off, fixed tier ${override.tier}` } };
    }
    if (override.mode === "threshold") {
      const t = checkUnit("override threshold", override.threshold);
      const detail = override.source === "feedback" ? `threshold ${fmt(t)} calibrated from feedback` : `override threshold ${fmt(t)}`;
      return { tier: tierAt(t), threshold: t, reason: { code: "override_threshold", detail } };
    }
    throw new InvalidRoutingRequest(`unknown override mode ${String((override as { mode?: unknown }).mode)}`);
  }

  if (calibration) {
    const curve = calibration.curve ?? defaultWeights.calibration;
    if ("targetLlmShare" in calibration) {
      const t = thresholdForLlmShare(curve, calibration.targetLlmShare);
      return {
        tier: tierAt(t),
        threshold: t,
        reason: { code: "calibrated_llm_share", detail: `threshold ${fmt(t)} for target LLM share ${pct(calibration.targetLlmShare)}` },
      };
    }
    if ("qualityFloor" in calibration) {
      const t = thresholdForQualityFloor(curve, calibration.qualityFloor);
      return {
        tier: tierAt(t),
        threshold: t,
        reason: { code: "calibrated_quality_floor", detail: `threshold ${fmt(t)} for quality floor PGR ${fmt(calibration.qualityFloor)}` },
      };
    }
    throw new InvalidRoutingRequest("calibration needs targetLlmShare or qualityFloor");
  }

  return { tier: tierAt(base), threshold: base, reason: { code: "industry_default", detail: `${input.industry} threshold ${fmt(base)}` } };
}
