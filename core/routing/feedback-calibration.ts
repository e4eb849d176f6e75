/**
 * Calibration from a tenant's own feedback: the threshold that best separates the queries its users
 * say the small model handled from those they say needed the large one. Pure (no I/O, no clock), so a
 * calibration can be replayed from the feedback it counted.
 *
 * The rule (README "Hybrid model routing", core/routing/README.md):
 *
 * 1. **Labels.** Each feedback item on a routed decision (one with a score) says, for its score:
 *    - *needs the LLM* (weight 1): `neededLargeModel: true` on any answer, or `down` on an SLM answer
 *      without `neededLargeModel: false` (the small model's answer was not good enough);
 *    - *the SLM is enough* (weight 1): `neededLargeModel: false` on any answer, or `up` on an SLM answer;
 *    - *the SLM is probably enough* (weight 0.5): `up` on an LLM answer without the flag. The large
 *      model answered well, which says little about the small one, hence the half weight: on its own
 *      it can only raise the threshold once the SLM side is silent;
 *    - nothing: `down` on an LLM answer without the flag (the large model was used and still wrong:
 *      not a routing problem), and decisions with no score (a pinned model, routing off).
 * 2. **Estimate.** The threshold `t` (LLM when `score >= t`) minimizing the weighted errors: an
 *    *needs the LLM* item with `score < t`, an *SLM is enough* item with `score >= t`. Candidates are
 *    the current threshold and the midpoints between neighbouring distinct scores (and the bounds),
 *    so a new threshold sits in the middle of a gap, not on a score; among equally good candidates the
 *    one closest to the current threshold wins (no move without a reason).
 * 3. **Bounds.** No move below `MIN_FEEDBACK` items counted; shrinkage toward the current threshold,
 *    `t0 + w (t̂ - t0)` with `w = n / (n + PRIOR_WEIGHT)` (n = the counted items' weight), so 20 items
 *    move it half way and 180 nine tenths; at most `MAX_STEP` per calibration; clamped to
 *    [`MIN_THRESHOLD`, `MAX_THRESHOLD`]; rounded to 4 decimals toward the current threshold (so rounding
 *    never makes a step longer than `MAX_STEP`).
 *
 * Monotonic: with the same decisions, turning any item's verdict toward "needed the LLM" never raises
 * the threshold (test/unit/routing/feedback-calibration.test.ts).
 */

/** Fewest counted feedback items before the threshold moves. */
export const MIN_FEEDBACK = 20;
/** The current threshold's weight, in feedback items, in the shrinkage. */
export const PRIOR_WEIGHT = 20;
/** Largest change of the threshold in one calibration. */
export const MAX_STEP = 0.1;
/** The band a feedback calibration keeps the threshold in: never "always" or "never" the LLM. */
export const MIN_THRESHOLD = 0.05;
export const MAX_THRESHOLD = 0.95;
/** Weight of an `up` on an LLM answer without `neededLargeModel` (see the rule). */
export const LLM_UP_WEIGHT = 0.5;

/** One feedback item as the estimator sees it: the decision (from its cost record) and the verdict. */
export interface FeedbackSample {
  /** The classifier's score of the decision; null for a pinned model or routing off. */
  score: number | null;
  tier: "slm" | "llm";
  rating: "up" | "down";
  neededLargeModel?: boolean;
}

/** What one item says: needs the LLM (1), SLM enough (0), with its weight; null when it says nothing. */
export interface FeedbackLabel {
  needsLlm: boolean;
  weight: number;
}

/** The label of one feedback item (rule 1). */
export function labelOf(sample: FeedbackSample): FeedbackLabel | null {
  if (sample.score === null || !Number.isFinite(sample.score)) return null;
  if (sample.neededLargeModel === true) return { needsLlm: true, weight: 1 };
  if (sample.neededLargeModel === false) return { needsLlm: false, weight: 1 };
  if (sample.tier === "slm") return { needsLlm: sample.rating === "down", weight: 1 };
  return sample.rating === "up" ? { needsLlm: false, weight: LLM_UP_WEIGHT } : null;
}

export interface FeedbackCalibration {
  /** The threshold to apply (the current one when it does not move). */
  threshold: number;
  /** The unbounded best separation (rule 2); null with no labelled item. */
  estimate: number | null;
  /** `threshold - current`. */
  moved: number;
  /** Items that said something (rule 1), and their total weight. */
  counted: number;
  weight: number;
  /** Why it did (not) move. */
  outcome: "moved" | "too_little_feedback" | "no_change";
}

const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;
/**
 * Rounds to 4 decimals toward `current`: a full step from a threshold with more decimals (a score
 * read off the curve) must not grow past MAX_STEP by rounding away from where it started.
 */
const round4Toward = (x: number, current: number): number => (x < current ? Math.ceil(x * 10_000 - 1e-9) : Math.floor(x * 10_000 + 1e-9)) / 10_000;
const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/**
 * The weighted errors of threshold `t` (rule 2): needs-LLM items it would send to the SLM, plus
 * SLM-enough items it would send to the LLM.
 */
export function separationError(labelled: readonly { score: number; label: FeedbackLabel }[], t: number): number {
  let error = 0;
  for (const { score, label } of labelled) {
    if (label.needsLlm ? score < t : score >= t) error += label.weight;
  }
  return error;
}

/** The threshold that best separates the labelled scores, nearest `current` among the best (rule 2). */
export function bestSeparation(labelled: readonly { score: number; label: FeedbackLabel }[], current: number): number | null {
  if (labelled.length === 0) return null;
  const points = [...new Set([MIN_THRESHOLD, MAX_THRESHOLD, ...labelled.map((l) => clamp(l.score, MIN_THRESHOLD, MAX_THRESHOLD))])].sort((a, b) => a - b);
  const candidates = [current];
  for (let i = 1; i < points.length; i++) candidates.push((points[i - 1]! + points[i]!) / 2);
  let best = current;
  let bestError = Infinity;
  for (const t of candidates) {
    const error = separationError(labelled, t);
    // A tiny tolerance: weights of 0.5 and 1 add up exactly, but say so rather than rely on it.
    if (error < bestError - 1e-9 || (Math.abs(error - bestError) <= 1e-9 && Math.abs(t - current) < Math.abs(best - current))) {
      best = t;
      bestError = error;
    }
  }
  return best;
}

/**
 * The threshold a tenant's feedback calls for, from its current one (rules 1-3).
 *
 * @param current the threshold in force now, in [0, 1]
 */
export function calibrateFromFeedback(samples: readonly FeedbackSample[], current: number): FeedbackCalibration {
  const labelled: { score: number; label: FeedbackLabel }[] = [];
  for (const sample of samples) {
    const label = labelOf(sample);
    if (label) labelled.push({ score: sample.score!, label });
  }
  const weight = labelled.reduce((sum, l) => sum + l.label.weight, 0);
  const estimate = bestSeparation(labelled, current);
  const base = { estimate: estimate === null ? null : round4(estimate), counted: labelled.length, weight };
  if (labelled.length < MIN_FEEDBACK || estimate === null) return { ...base, threshold: current, moved: 0, outcome: "too_little_feedback" };

  const shrunk = current + (weight / (weight + PRIOR_WEIGHT)) * (estimate - current);
  const stepped = clamp(shrunk, current - MAX_STEP, current + MAX_STEP);
  const threshold = clamp(round4Toward(stepped, current), MIN_THRESHOLD, MAX_THRESHOLD);
  const moved = round4(threshold - current);
  return { ...base, threshold, moved, outcome: moved === 0 ? "no_change" : "moved" };
}
