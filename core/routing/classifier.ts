/**
 * The complexity classifier: scores a query (or conversation) in [0, 1] for "need for the large
 * model". A linear model over text features (see ./features) gives a logit; a monotone
 * piecewise-linear map turns the logit into the share of the training mix that scores lower, so a
 * score of 0.7 means "harder than about 70% of the benchmark prompts" and thresholds stay
 * meaningful across retrains. No network call, no model download: the weights are ./weights.json.
 */
import {
  createFeatureVector,
  DENSE_COUNT,
  DENSE_FEATURES,
  extractFeatures,
  FEATURE_VERSION,
  type FeatureConfig,
  type RoutingInput,
} from "./features";
import weightsJson from "./weights.json";

export type { ChatMessage, FeatureConfig, RoutingInput } from "./features";

/** Format tag of weights.json; bump when its shape changes. */
export const WEIGHTS_FORMAT = "agentorg-routing-weights/1";

/**
 * One point of the calibration curve, measured on held-out folds: routing every prompt with
 * `score >= threshold` to the LLM sends `llmShare` of the traffic there and recovers `pgr` of the
 * quality gap between the small and the large model.
 */
export interface CalibrationPoint {
  threshold: number;
  llmShare: number;
  pgr: number;
  /** The same measured on each benchmark alone (informative; the policy uses the mix). */
  byBenchmark?: Record<string, { llmShare: number; pgr: number }>;
}

/** Calibration curve: points sorted by ascending threshold (so descending LLM share). */
export interface CalibrationCurve {
  /** How the points were measured (data mix, folds), for people reading weights.json. */
  basis: string;
  points: CalibrationPoint[];
}

/** Contents of weights.json. */
export interface RoutingWeights {
  format: string;
  featureVersion: string;
  features: FeatureConfig & { dense: string[] };
  model: {
    kind: "logistic";
    bias: number;
    /** DENSE_COUNT dense weights followed by `features.buckets` hashed-bucket weights. */
    weights: number[];
  };
  /** Monotone map from logit to score: `logits` strictly increasing, `scores` non-decreasing in [0, 1]. */
  scoreMap: { logits: number[]; scores: number[] };
  calibration: CalibrationCurve;
  /** Training provenance and held-out results; informative only, not read when scoring. */
  training?: unknown;
  evaluation?: unknown;
}

/** A loaded classifier. */
export interface Classifier {
  /** Need for the large model in [0, 1]; higher means route to the LLM. */
  score(input: RoutingInput): number;
  /** The raw linear-model logit before the score map (for training and diagnostics). */
  logit(input: RoutingInput): number;
  readonly weights: RoutingWeights;
}

/** Raised when weights.json does not match this code (wrong format, feature version or sizes). */
export class InvalidRoutingWeights extends Error {
  readonly code = "routing_weights_invalid";
  constructor(message: string) {
    super(message);
    this.name = "InvalidRoutingWeights";
  }
}

function validate(w: RoutingWeights): void {
  const fail = (why: string): never => {
    throw new InvalidRoutingWeights(why);
  };
  if (w.format !== WEIGHTS_FORMAT) fail(`format ${String(w.format)}, expected ${WEIGHTS_FORMAT}`);
  if (w.featureVersion !== FEATURE_VERSION) {
    fail(`weights were trained for ${w.featureVersion}, this code extracts ${FEATURE_VERSION}: run npm run route:train`);
  }
  const { buckets } = w.features;
  if (!Number.isInteger(buckets) || buckets < 1 || (buckets & (buckets - 1)) !== 0) fail(`buckets ${buckets} is not a power of two`);
  if (w.features.dense.length !== DENSE_COUNT || w.features.dense.some((name, i) => name !== DENSE_FEATURES[i])) {
    fail("dense feature names differ from this code's DENSE_FEATURES");
  }
  if (w.model.weights.length !== DENSE_COUNT + buckets) {
    fail(`model has ${w.model.weights.length} weights, expected ${DENSE_COUNT + buckets}`);
  }
  const { logits, scores } = w.scoreMap;
  if (logits.length < 2 || logits.length !== scores.length) fail("scoreMap needs two equal-length arrays of 2+ knots");
  for (let i = 1; i < logits.length; i++) {
    if (!(logits[i]! > logits[i - 1]!) || !(scores[i]! >= scores[i - 1]!)) fail(`scoreMap is not increasing at knot ${i}`);
  }
}

/**
 * Builds a classifier from trained weights.
 *
 * @throws InvalidRoutingWeights when the weights do not fit this version of the feature code
 */
export function createClassifier(weights: RoutingWeights): Classifier {
  validate(weights);
  const config: FeatureConfig = { buckets: weights.features.buckets, bigrams: weights.features.bigrams };
  const w = Float64Array.from(weights.model.weights);
  const bias = weights.model.bias;
  const knots = Float64Array.from(weights.scoreMap.logits);
  const values = Float64Array.from(weights.scoreMap.scores);
  const last = knots.length - 1;
  // One scratch vector per classifier: scoring allocates nothing (JS is single-threaded per isolate).
  const scratch = createFeatureVector();

  const logit = (input: RoutingInput): number => {
    const v = extractFeatures(input, config, scratch);
    let z = bias;
    for (let k = 0; k < v.length; k++) z += w[v.indices[k]!]! * v.values[k]!;
    return z;
  };

  const toScore = (z: number): number => {
    if (!(z > knots[0]!)) return values[0]!; // also catches NaN
    if (z >= knots[last]!) return values[last]!;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (knots[mid]! <= z) lo = mid;
      else hi = mid;
    }
    const x0 = knots[lo]!;
    const y0 = values[lo]!;
    return y0 + ((z - x0) * (values[hi]! - y0)) / (knots[hi]! - x0);
  };

  return {
    score: (input) => toScore(logit(input)),
    logit,
    weights,
  };
}

/** The shipped weights (core/routing/weights.json). */
export const defaultWeights = weightsJson as unknown as RoutingWeights;

let shipped: Classifier | undefined;

/**
 * The classifier built from the shipped weights, on first use: the training script imports this
 * module too and must still run when weights.json is stale (a new feature version), so a mismatch
 * throws InvalidRoutingWeights at the first score, not at import.
 */
export const classifier: Classifier = {
  score: (input) => (shipped ??= createClassifier(defaultWeights)).score(input),
  logit: (input) => (shipped ??= createClassifier(defaultWeights)).logit(input),
  get weights() {
    return defaultWeights;
  },
};
