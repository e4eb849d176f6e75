/**
 * The training pipeline behind `npm run route:train` and `npm run route:eval`.
 *
 * Evaluation is nested cross-validation, so no reported number comes from a row the model (or the
 * choice of its hyperparameters) has seen:
 *
 * 1. rows are split into `folds` outer folds by a hash of the row's `promptId` (duplicate MMLU
 *    questions, and every judgment of an open-chat prompt, stay together);
 * 2. for each outer fold, the candidate configurations (learning rate x Arena-Hard balance) are compared by
 *    inner cross-validation on the other folds only; the winner is refitted on those folds and
 *    scores the held-out fold (out-of-fold, "OOF", scores);
 * 3. the shipped model uses the candidate with the best mean outer-fold APGR, refitted on all rows.
 *
 * Everything is seeded and single-threaded: the same data, options and code give a byte-identical
 * weights.json.
 */
import { DENSE_COUNT, DENSE_FEATURES, FEATURE_VERSION, type FeatureConfig } from "../features";
import { WEIGHTS_FORMAT, type CalibrationPoint, type RoutingWeights } from "../classifier";
import { assertTrainable, foldOf, TRAINABLE_SOURCES, type Benchmark, type RoutingDataset, type RoutingRow } from "./dataset";
import { evaluateRouter, type RouterEvaluation } from "./metrics";
import { buildMatrix, fitLogistic, rowLogit, type FeatureMatrix, type LinearModel } from "./model";

/**
 * One hyper-parameter configuration. The target is always the soft label (strong - weak + 1) / 2,
 * the expected gain of calling the LLM (what ranking for Q(p) needs; for the open-chat sources it is
 * the mean judge label). The hard "strong right and weak wrong" label of version 1 lost on every
 * fold and has no meaning for judged shares, so it left the grid.
 */
/** Target shift per source: none, the open-chat sources onto the benchmarks' mean, or all onto 0.5. */
export type CentreMode = "none" | "open" | "all";

export interface Candidate {
  learningRate: number;
  /**
   * How far the open-chat source (Arena-Hard, 497 prompts) is up-weighted toward parity with the
   * largest source, MMLU's 14k rows (0 = as is, 1 = the same total weight).
   */
  balance: number;
}

export interface TrainOptions {
  features: FeatureConfig;
  folds: number;
  innerFolds: number;
  seed: number;
  epochs: number;
  l2: number;
  /** The same for GSM8K (1.3k rows), fixed: version 1's value, chosen on MMLU/GSM8K. */
  gsm8kBalance: number;
  candidates: Candidate[];
  /** Which sources' targets are shifted to a common mean (see `targetsFor`). */
  centreTargets: CentreMode;
  /** Hand-set logit priors, in units of the training-logit standard deviation (see README). */
  conversationPriors: { logTurns: number; logContextChars: number; contextHasCode: number };
  /** Reproducible date for the metadata (SOURCE_DATE_EPOCH convention), or null. */
  sourceDateEpoch: number | null;
  log: (line: string) => void;
}

export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  features: { buckets: 16384, bigrams: true },
  folds: 5,
  innerFolds: 4,
  seed: 7,
  epochs: 5,
  l2: 1e-4,
  candidates: [
    { learningRate: 0.005, balance: 0.1 },
    { learningRate: 0.005, balance: 0.25 },
    { learningRate: 0.005, balance: 0.5 },
  ],
  centreTargets: "open",
  gsm8kBalance: 0.5,
  conversationPriors: { logTurns: 0.25, logContextChars: 0.25, contextHasCode: 0.15 },
  sourceDateEpoch: null,
  log: () => {},
};

/** The sources the router is trained and cross-validated on (licence permitting), in report order. */
export const BENCHMARKS: readonly Benchmark[] = TRAINABLE_SOURCES;

/** Result of the nested cross-validation. */
export interface CrossValidation {
  /** Outer fold of each row. */
  folds: Int32Array;
  /** Out-of-fold score in [0, 1] of each row (its fold's model and score map). */
  scores: Float64Array;
  /** Candidate chosen by inner CV for each outer fold. */
  selected: Candidate[];
  /** Mean outer-fold APGR of each candidate (mean over benchmarks), for the final choice. */
  candidateApgr: number[];
}

/**
 * Soft target per row: (strong - weak + 1) / 2, the expected gain of calling the LLM. With `centre`
 * "open", each open-chat source's targets are shifted so their mean equals the mean target of the
 * benchmark rows (MMLU + GSM8K); "all" moves every source's mean to 0.5 (clamped to [0, 1]). The
 * sources measure quality on different scales (accuracy, a judge's preference share by another
 * judge), so only the ranking within a source is comparable; without the shift the shared weights
 * spend themselves on telling Arena-Hard from the benchmarks. The shift is one constant per source,
 * so it carries no information about any row's rank.
 */
export function targetsFor(rows: readonly RoutingRow[], centre: CentreMode = "open"): Float64Array {
  const raw = Float64Array.from(rows, (r) => (r.strong - r.weak + 1) / 2);
  const sum = new Map<Benchmark, { total: number; n: number }>();
  rows.forEach((r, i) => {
    const s = sum.get(r.benchmark) ?? { total: 0, n: 0 };
    s.total += raw[i]!;
    s.n++;
    sum.set(r.benchmark, s);
  });
  let benchTotal = 0;
  let benchN = 0;
  for (const b of ["mmlu", "gsm8k"] as const) {
    benchTotal += sum.get(b)?.total ?? 0;
    benchN += sum.get(b)?.n ?? 0;
  }
  const open = benchN > 0 ? benchTotal / benchN : 0.5;
  return raw.map((t, i) => {
    const b = rows[i]!.benchmark;
    const s = sum.get(b)!;
    const mean = s.total / s.n;
    const shifted = centre === "all" ? t - mean + 0.5 : centre === "open" && b !== "mmlu" && b !== "gsm8k" ? t - mean + open : t;
    return Math.min(1, Math.max(0, shifted));
  });
}

/**
 * Per-row loss weight: rows of a source with n rows weigh `1 + b * (nMax / n - 1)`, where nMax is the
 * largest source's count and b is `gsm8kBalance` for GSM8K, `balance` for the other sources (so b = 1
 * makes a source weigh as much as the largest one in the loss).
 */
export function sampleWeights(rows: readonly RoutingRow[], balance: number, gsm8kBalance = balance): Float64Array {
  const counts = new Map<Benchmark, number>();
  for (const r of rows) counts.set(r.benchmark, (counts.get(r.benchmark) ?? 0) + 1);
  const nMax = Math.max(...counts.values());
  return Float64Array.from(rows, (r) => 1 + (r.benchmark === "gsm8k" ? gsm8kBalance : balance) * (nMax / counts.get(r.benchmark)! - 1));
}

/** Per-row weights that make each benchmark present in `subset` weigh the same in a mix. */
function mixWeights(rows: readonly RoutingRow[], subset: ArrayLike<number>): Float64Array {
  const counts = new Map<Benchmark, number>();
  for (let k = 0; k < subset.length; k++) {
    const b = rows[subset[k]!]!.benchmark;
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return Float64Array.from({ length: subset.length }, (_, k) => 1 / counts.size / counts.get(rows[subset[k]!]!.benchmark)!);
}

/** Mean APGR over the benchmarks that have enough rows and a quality gap in `subset`. */
function meanApgr(rows: readonly RoutingRow[], subset: ArrayLike<number>, scores: ArrayLike<number>): number {
  let sum = 0;
  let count = 0;
  for (const b of BENCHMARKS) {
    const s: number[] = [];
    const st: number[] = [];
    const wk: number[] = [];
    for (let k = 0; k < subset.length; k++) {
      const r = rows[subset[k]!]!;
      if (r.benchmark !== b) continue;
      s.push(scores[k]!);
      st.push(r.strong);
      wk.push(r.weak);
    }
    if (s.length < 10) continue;
    const e = evaluateRouter(s, st, wk);
    if (Number.isFinite(e.apgr)) {
      sum += e.apgr;
      count++;
    }
  }
  return count > 0 ? sum / count : Number.NaN;
}

/**
 * Monotone logit -> score map: knot i sits at the logit below which a share i / (knots - 1) of the
 * weighted rows fall. Ties collapse into one knot so logits stay strictly increasing.
 */
export function buildScoreMap(logits: ArrayLike<number>, weights: ArrayLike<number>, knots = 101): { logits: number[]; scores: number[] } {
  const order = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[a]! - logits[b]! || a - b);
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  const xs: number[] = [];
  const ys: number[] = [];
  let cum = 0;
  let k = 0;
  for (let q = 0; q < knots; q++) {
    const target = (q / (knots - 1)) * total;
    // Smallest logit whose cumulative weight (including itself) reaches the target share.
    while (k < order.length - 1 && cum + weights[order[k]!]! < target - 1e-12) {
      cum += weights[order[k]!]!;
      k++;
    }
    const x = logits[order[k]!]!;
    if (xs.length === 0 || x > xs[xs.length - 1]!) {
      xs.push(x);
      ys.push(q / (knots - 1));
    }
  }
  if (xs.length < 2) {
    // Degenerate data (every logit equal): a step at that logit still satisfies the format.
    const x = xs[0] ?? 0;
    return { logits: [x - 1e-9, x], scores: [0, 1] };
  }
  return { logits: xs, scores: ys };
}

function applyScoreMap(map: { logits: number[]; scores: number[] }, z: number): number {
  const { logits: xs, scores: ys } = map;
  const last = xs.length - 1;
  if (!(z > xs[0]!)) return ys[0]!;
  if (z >= xs[last]!) return ys[last]!;
  let lo = 0;
  let hi = last;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= z) lo = mid;
    else hi = mid;
  }
  return ys[lo]! + ((z - xs[lo]!) * (ys[hi]! - ys[lo]!)) / (xs[hi]! - xs[lo]!);
}

interface Context {
  rows: readonly RoutingRow[];
  matrix: FeatureMatrix;
  /** Loss weights per row, one array per balance value of the grid. */
  weightsByBalance: Map<number, Float64Array>;
  targets: Float64Array;
  options: TrainOptions;
}

function fit(ctx: Context, subset: Int32Array, candidate: Candidate): LinearModel {
  return fitLogistic(ctx.matrix, subset, ctx.targets, ctx.weightsByBalance.get(candidate.balance)!, {
    l2: ctx.options.l2,
    epochs: ctx.options.epochs,
    learningRate: candidate.learningRate,
    seed: ctx.options.seed,
  });
}

function logitsOf(ctx: Context, subset: Int32Array, model: LinearModel): Float64Array {
  return Float64Array.from(subset, (r) => rowLogit(ctx.matrix, r, model));
}

/** Mean APGR of each candidate over a k-fold split of `subset` given by `foldOfRow`. */
function compareCandidates(ctx: Context, subset: Int32Array, foldOfRow: (row: number) => number, k: number): number[] {
  const byFold = Array.from({ length: k }, () => ({ train: [] as number[], test: [] as number[] }));
  for (const r of subset) {
    const f = foldOfRow(r);
    byFold.forEach((split, g) => (g === f ? split.test : split.train).push(r));
  }
  return ctx.options.candidates.map((candidate) => {
    let sum = 0;
    let n = 0;
    for (const { train, test } of byFold) {
      if (train.length === 0 || test.length === 0) continue;
      const model = fit(ctx, Int32Array.from(train), candidate);
      const testIdx = Int32Array.from(test);
      const a = meanApgr(ctx.rows, testIdx, logitsOf(ctx, testIdx, model));
      if (Number.isFinite(a)) {
        sum += a;
        n++;
      }
    }
    return n > 0 ? sum / n : Number.NaN;
  });
}

/** Index of the largest value; NaN (no measurable benchmark) never wins, ties keep the first. */
function argmax(xs: readonly number[]): number {
  let best = 0;
  let bestValue = Number.NEGATIVE_INFINITY;
  xs.forEach((x, i) => {
    if (x > bestValue) {
      best = i;
      bestValue = x;
    }
  });
  return best;
}

function describe(c: Candidate): string {
  return `lr${c.learningRate}/balance${c.balance}`;
}

function createContext(dataset: RoutingDataset, options: TrainOptions): Context {
  const rows = dataset.rows;
  // Licences decide what may be fitted: this throws before a single weight is touched.
  assertTrainable(rows);
  return {
    rows,
    matrix: buildMatrix(
      rows.map((r) => r.prompt),
      options.features,
    ),
    weightsByBalance: new Map(options.candidates.map((c) => [c.balance, sampleWeights(rows, c.balance, options.gsm8kBalance)] as const)),
    targets: targetsFor(rows, options.centreTargets),
    options,
  };
}

/**
 * Outer and inner fold of every row, from a hash of its `promptId`: all rows of a prompt share both
 * folds (and the judgments behind an aggregated open-chat row follow their row's prompt).
 */
export function assignFolds(
  rows: readonly Pick<RoutingRow, "promptId">[],
  options: Pick<TrainOptions, "folds" | "innerFolds" | "seed">,
): { folds: Int32Array; inner: Int32Array } {
  return {
    folds: Int32Array.from(rows, (r) => foldOf(r.promptId, options.folds, options.seed)),
    inner: Int32Array.from(rows, (r) => foldOf(r.promptId, options.innerFolds, options.seed + 1)),
  };
}

function runCrossValidation(ctx: Context): CrossValidation {
  const { rows, options } = ctx;
  const { folds, inner } = assignFolds(rows, options);
  const scores = new Float64Array(rows.length);
  const selected: Candidate[] = [];
  const candidateApgr = options.candidates.map(() => 0);
  const candidateFolds = options.candidates.map(() => 0);
  for (let f = 0; f < options.folds; f++) {
    const train = Int32Array.from(rows.keys()).filter((r) => folds[r] !== f);
    const test = Int32Array.from(rows.keys()).filter((r) => folds[r] === f);
    if (train.length === 0 || test.length === 0) throw new RangeError(`fold ${f} is empty: too few rows for ${options.folds} folds`);
    const innerApgr = compareCandidates(ctx, train, (r) => inner[r]!, options.innerFolds);
    const choice = options.candidates[argmax(innerApgr)]!;
    selected.push(choice);
    // Every candidate also scores this outer fold: that comparison picks the shipped model's
    // configuration (step 3), never this fold's own model.
    let foldApgr = Number.NaN;
    options.candidates.forEach((candidate, c) => {
      const model = fit(ctx, train, candidate);
      const testLogits = logitsOf(ctx, test, model);
      const a = meanApgr(rows, test, testLogits);
      if (Number.isFinite(a)) {
        candidateApgr[c]! += a;
        candidateFolds[c]!++;
      }
      if (candidate === choice) {
        const map = buildScoreMap(logitsOf(ctx, train, model), mixWeights(rows, train));
        test.forEach((r, k) => (scores[r] = applyScoreMap(map, testLogits[k]!)));
        foldApgr = a;
      }
    });
    options.log(
      `fold ${f + 1}/${options.folds}: ${train.length} train / ${test.length} held out; inner CV picked ${describe(choice)} ` +
        `(inner APGR ${innerApgr.map((a) => a.toFixed(3)).join(" ")}); held-out mean APGR ${foldApgr.toFixed(3)}`,
    );
  }
  return {
    folds,
    scores,
    selected,
    candidateApgr: candidateApgr.map((s, c) => (candidateFolds[c]! > 0 ? s / candidateFolds[c]! : Number.NaN)),
  };
}

/**
 * Nested cross-validation only (no final model): out-of-fold scores for `npm run route:eval`.
 * Same folds, candidates and seed as `trainRouter`, so it reproduces the numbers in weights.json.
 */
export function crossValidate(dataset: RoutingDataset, options: TrainOptions = DEFAULT_TRAIN_OPTIONS): CrossValidation {
  return runCrossValidation(createContext(dataset, options));
}

/**
 * Cross-source run: trains on `train` only (the candidate picked by inner cross-validation on it,
 * so the test source influences nothing) and scores the `test` rows. Used to measure a router on a
 * source it never saw (train without a source, test on it).
 */
export function trainAndScore(
  train: RoutingDataset,
  test: readonly Pick<RoutingRow, "prompt">[],
  options: TrainOptions = DEFAULT_TRAIN_OPTIONS,
): { candidate: Candidate; scores: Float64Array } {
  const ctx = createContext(train, options);
  const { inner } = assignFolds(train.rows, options);
  const all = Int32Array.from(train.rows.keys());
  const apgrs = compareCandidates(ctx, all, (r) => inner[r]!, options.innerFolds);
  const candidate = options.candidates[argmax(apgrs)]!;
  const model = fit(ctx, all, candidate);
  const map = buildScoreMap(logitsOf(ctx, all, model), mixWeights(train.rows, all));
  const testMatrix = buildMatrix(
    test.map((r) => r.prompt),
    options.features,
  );
  const scores = Float64Array.from(test, (_, r) => applyScoreMap(map, rowLogit(testMatrix, r, model)));
  options.log(`cross-source: trained on ${train.rows.length} rows with ${describe(candidate)}; scored ${test.length} rows`);
  return { candidate, scores };
}

/** Held-out evaluation per benchmark: OOF scores on rows not marked `routellm_contaminated`. */
export function heldOutEvaluation(
  rows: readonly RoutingRow[],
  scores: ArrayLike<number>,
): Partial<Record<Benchmark, RouterEvaluation & { rows: number }>> {
  const out: Partial<Record<Benchmark, RouterEvaluation & { rows: number }>> = {};
  for (const b of BENCHMARKS) {
    const idx = [...rows.keys()].filter((i) => rows[i]!.benchmark === b && !rows[i]!.contaminated);
    if (idx.length === 0) continue;
    out[b] = {
      ...evaluateRouter(
        idx.map((i) => scores[i]!),
        idx.map((i) => rows[i]!.strong),
        idx.map((i) => rows[i]!.weak),
      ),
      rows: idx.length,
    };
  }
  return out;
}

/**
 * Calibration curve on the OOF scores of non-contaminated rows, each source weighing the same:
 * for thresholds 0, 0.05, ..., 1 the LLM share and the PGR of the mix, plus each benchmark's own.
 */
export function calibrationCurve(rows: readonly RoutingRow[], scores: ArrayLike<number>, steps = 20): CalibrationPoint[] {
  const idx = Int32Array.from(rows.keys()).filter((i) => !rows[i]!.contaminated);
  const w = mixWeights(rows, idx);
  const present = BENCHMARKS.filter((b) => idx.some((i) => rows[i]!.benchmark === b));
  let strongQ = 0;
  let weakQ = 0;
  idx.forEach((r, k) => {
    strongQ += w[k]! * rows[r]!.strong;
    weakQ += w[k]! * rows[r]!.weak;
  });
  const points: CalibrationPoint[] = [];
  for (let s = 0; s <= steps; s++) {
    const threshold = s / steps;
    let share = 0;
    let quality = 0;
    idx.forEach((r, k) => {
      const row = rows[r]!;
      const llm = scores[r]! >= threshold;
      if (llm) share += w[k]!;
      quality += w[k]! * (llm ? row.strong : row.weak);
    });
    const point: CalibrationPoint = {
      threshold,
      llmShare: round(share, 4),
      pgr: round((quality - weakQ) / (strongQ - weakQ), 4),
    };
    point.byBenchmark = {};
    for (const b of present) {
      const sub = [...idx].filter((i) => rows[i]!.benchmark === b);
      const e = pointFor(sub, rows, scores, threshold);
      point.byBenchmark[b] = { llmShare: round(e.share, 4), pgr: round(e.pgr, 4) };
    }
    points.push(point);
  }
  return points;
}

function pointFor(sub: number[], rows: readonly RoutingRow[], scores: ArrayLike<number>, threshold: number): { share: number; pgr: number } {
  let llm = 0;
  let q = 0;
  let s = 0;
  let w = 0;
  for (const i of sub) {
    const r = rows[i]!;
    const toLlm = scores[i]! >= threshold;
    if (toLlm) llm++;
    q += toLlm ? r.strong : r.weak;
    s += r.strong;
    w += r.weak;
  }
  return { share: llm / sub.length, pgr: (q - w) / (s - w) };
}

function round(x: number, digits: number): number {
  return Number.isFinite(x) ? Number(x.toFixed(digits)) : x;
}

/** Six significant digits: enough for the model, and it keeps weights.json small and diffable. */
function roundWeight(x: number): number {
  return x === 0 ? 0 : Number(x.toPrecision(6));
}

/** Result of `trainRouter`. */
export interface TrainResult {
  weights: RoutingWeights;
  cv: CrossValidation;
}

/**
 * Trains the shipped router: nested cross-validation for the held-out numbers and the calibration
 * curve, then the final model on all rows.
 */
export function trainRouter(dataset: RoutingDataset, options: TrainOptions = DEFAULT_TRAIN_OPTIONS): TrainResult {
  const { rows } = dataset;
  options.log(`extracting features of ${rows.length} prompts (${options.features.buckets} buckets, bigrams ${options.features.bigrams})`);
  const ctx = createContext(dataset, options);
  const cv = runCrossValidation(ctx);
  const best = options.candidates[argmax(cv.candidateApgr)]!;
  options.log(
    `outer-fold APGR per candidate: ${options.candidates.map((c, i) => `${describe(c)} ${cv.candidateApgr[i]!.toFixed(3)}`).join(", ")}`,
  );
  options.log(`final model: ${describe(best)} on all ${rows.length} rows`);

  const all = Int32Array.from(rows.keys());
  const model = fit(ctx, all, best);
  const rounded = Array.from(model.weights, roundWeight);
  const bias = roundWeight(model.bias);
  const roundedModel: LinearModel = { weights: Float64Array.from(rounded), bias };
  const logits = logitsOf(ctx, all, roundedModel);

  // Conversation features are always 0 in single-prompt benchmarks, so training leaves their weights
  // at 0; hand-set priors (scaled to the logit spread) nudge long, code-heavy chats toward the LLM.
  let mean = 0;
  for (const z of logits) mean += z / logits.length;
  let variance = 0;
  for (const z of logits) variance += (z - mean) ** 2 / logits.length;
  const sd = Math.sqrt(variance);
  const priors = options.conversationPriors;
  const slot = (name: (typeof DENSE_FEATURES)[number]): number => DENSE_FEATURES.indexOf(name);
  rounded[slot("log_turns")] = roundWeight(priors.logTurns * sd);
  rounded[slot("log_context_chars")] = roundWeight(priors.logContextChars * sd);
  rounded[slot("context_has_code")] = roundWeight(priors.contextHasCode * sd);

  const evaluation = heldOutEvaluation(rows, cv.scores);
  const counts = Object.fromEntries(BENCHMARKS.map((b) => [b, rows.filter((r) => r.benchmark === b).length]));
  const weights: RoutingWeights = {
    format: WEIGHTS_FORMAT,
    featureVersion: FEATURE_VERSION,
    features: { ...options.features, dense: [...DENSE_FEATURES] },
    model: { kind: "logistic", bias, weights: rounded },
    scoreMap: buildScoreMap(logits, mixWeights(rows, all)),
    calibration: {
      basis:
        `out-of-fold scores of ${options.folds}-fold nested cross-validation on non-contaminated rows; ` +
        "MMLU, GSM8K and Arena-Hard weigh a third each; pgr = share of the strong-vs-weak quality gap recovered " +
        "(accuracy on MMLU/GSM8K, mean judge preference on Arena-Hard)",
      points: calibrationCurve(rows, cv.scores),
    },
    training: {
      data: {
        source:
          "lm-sys/RouteLLM evals (MMLU, GSM8K: GPT-4-1106-preview vs Mixtral-8x7B-Instruct) and Arena-Hard-Auto v0.1 " +
          "(GPT-4-0314 vs ten weak model / judge pairs, mean label per prompt), see shared/data/routing/README.md; " +
          "AlpacaEval (CC BY-NC) is never trained on",
        sha256: dataset.sha256,
        rows: counts,
      },
      date: options.sourceDateEpoch === null ? null : new Date(options.sourceDateEpoch * 1000).toISOString().slice(0, 10),
      seed: options.seed,
      folds: options.folds,
      innerFolds: options.innerFolds,
      optimizer: `AdaGrad SGD, ${options.epochs} epochs, L2 ${options.l2}, cross-entropy on soft labels`,
      centreTargets: options.centreTargets,
      gsm8kBalance: options.gsm8kBalance,
      candidates: options.candidates.map((c, i) => ({ ...c, outerFoldApgr: round(cv.candidateApgr[i]!, 4) })),
      selectedPerFold: cv.selected,
      final: best,
      denseFeatures: DENSE_COUNT,
      conversationPriors: { ...priors, unit: "training-logit standard deviation", logitSd: round(sd, 6) },
    },
    evaluation: Object.fromEntries(
      Object.entries(evaluation).map(([b, e]) => [
        b,
        { rows: e.rows, apgr: round(e.apgr, 4), cpt50: round(e.cpt50, 4), cpt80: round(e.cpt80, 4) },
      ]),
    ),
  };
  return { weights, cv };
}

/**
 * JSON with two-space indentation but arrays of numbers on one line: readable metadata without
 * 16k lines of weights. Deterministic (fixed key order, JS number formatting).
 */
export function serializeWeights(weights: RoutingWeights): string {
  const render = (value: unknown, indent: string): string => {
    if (Array.isArray(value)) {
      if (value.every((x) => typeof x === "number")) return `[${value.map((x) => JSON.stringify(x)).join(",")}]`;
      if (value.length === 0) return "[]";
      const inner = indent + "  ";
      return `[\n${value.map((x) => inner + render(x, inner)).join(",\n")}\n${indent}]`;
    }
    if (value !== null && typeof value === "object") {
      const entries = Object.entries(value).filter(([, v]) => v !== undefined);
      if (entries.length === 0) return "{}";
      const inner = indent + "  ";
      return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${render(v, inner)}`).join(",\n")}\n${indent}}`;
    }
    return JSON.stringify(value);
  };
  return `${render(weights, "")}\n`;
}
