/**
 * Logistic regression on sparse feature vectors, trained by seeded AdaGrad SGD with L2: the same
 * rows, options and seed give bit-identical weights (fixed visiting order, no parallelism).
 */
import { createFeatureVector, extractFeatures, featureDimension, type FeatureConfig } from "../features";
import { mulberry32 } from "./metrics";

/** Rows of sparse features in CSR layout (index repeats act as counts). */
export interface FeatureMatrix {
  rows: number;
  dim: number;
  offsets: Int32Array;
  indices: Int32Array;
  values: Float64Array;
}

/** Extracts the features of every prompt once, so cross-validation reuses them. */
export function buildMatrix(prompts: readonly string[], config: FeatureConfig): FeatureMatrix {
  const v = createFeatureVector();
  const offsets = new Int32Array(prompts.length + 1);
  const idx: number[] = [];
  const val: number[] = [];
  prompts.forEach((prompt, r) => {
    extractFeatures(prompt, config, v);
    for (let k = 0; k < v.length; k++) {
      idx.push(v.indices[k]!);
      val.push(v.values[k]!);
    }
    offsets[r + 1] = idx.length;
  });
  return {
    rows: prompts.length,
    dim: featureDimension(config),
    offsets,
    indices: Int32Array.from(idx),
    values: Float64Array.from(val),
  };
}

export interface FitOptions {
  /** L2 strength, applied to a weight each time its feature occurs. */
  l2: number;
  epochs: number;
  /** AdaGrad base step. */
  learningRate: number;
  seed: number;
}

export interface LinearModel {
  weights: Float64Array;
  bias: number;
}

/** Raw logit of one matrix row. */
export function rowLogit(m: FeatureMatrix, row: number, model: LinearModel): number {
  let z = model.bias;
  for (let k = m.offsets[row]!; k < m.offsets[row + 1]!; k++) z += model.weights[m.indices[k]!]! * m.values[k]!;
  return z;
}

/**
 * Fits a logistic model on the rows listed in `subset`.
 *
 * @param targets per-row target in [0, 1] (soft targets allowed: the loss is cross-entropy)
 * @param sampleWeights per-row weight of the loss (balances benchmarks of different sizes)
 */
export function fitLogistic(
  m: FeatureMatrix,
  subset: Int32Array,
  targets: Float64Array,
  sampleWeights: Float64Array,
  options: FitOptions,
): LinearModel {
  const weights = new Float64Array(m.dim);
  const g2 = new Float64Array(m.dim);
  let bias = 0;
  let biasG2 = 0;
  const order = Int32Array.from(subset);
  const rand = mulberry32(options.seed);
  const eps = 1e-8;
  const { l2, learningRate } = options;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    // Fisher-Yates with the seeded generator: a fixed visiting order per epoch.
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    for (let o = 0; o < order.length; o++) {
      const r = order[o]!;
      const start = m.offsets[r]!;
      const end = m.offsets[r + 1]!;
      let z = bias;
      for (let k = start; k < end; k++) z += weights[m.indices[k]!]! * m.values[k]!;
      const p = 1 / (1 + Math.exp(-z));
      const g = (p - targets[r]!) * sampleWeights[r]!;
      for (let k = start; k < end; k++) {
        const j = m.indices[k]!;
        const grad = g * m.values[k]! + l2 * weights[j]!;
        g2[j]! += grad * grad;
        weights[j]! -= (learningRate * grad) / Math.sqrt(g2[j]! + eps);
      }
      biasG2 += g * g;
      bias -= (learningRate * g) / Math.sqrt(biasG2 + eps);
    }
  }
  return { weights, bias };
}
