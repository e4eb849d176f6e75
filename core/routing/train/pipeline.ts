/**
 * The training pipeline behind `npm run route:train` and `npm run route:eval`.
 *
 * Evaluation is nested cross-validation, so no reported number comes from a row the model (or the
 * choice of its hyperparameters) has seen:
 *
 * 1. rows are split into `folds` outer folds by a hash of the row's `promptId` (duplicate MMLU
 *    questions, and every judgment of an open-chat prompt, stay together);
 * 2. for each outer fold, the candidate configurations (Arena-Hard in the fit or not and its weight,
 *    version-2 feature groups used or not) are compared by inner cross-validation on the other folds
 *    only, per source, and chosen by `options.selection`; the winner is refitted on those folds and
 *    scores the held-out fold (out-of-fold, "OOF", scores);
 * 3. the shipped model uses the candidate the same rule picks on the outer-fold APGR, refitted on all rows.
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
   * largest source, MMLU's 14k rows (0 = as is, 1 = the same total weight); null leaves its rows
   * out of the fit altogether (version 1's setting).
   */
  balance: number | null;
  /** Version-2 dense feature groups left out of the fit (their weights stay 0); none when absent. */
  without?: readonly FeatureGroup[];
}

/**
 * The dense features version 2 added, by group, so a candidate can leave a group out (ablation by
 * group, judged on inner folds like any other hyper-parameter).
 */
export const FEATURE_GROUPS = {
  keywords: ["kw_story", "kw_extract", "kw_rewrite", "kw_advice", "kw_tech"],
  task: ["task_code", "task_math", "task_reasoning", "task_creative", "task_extraction", "task_rewriting", "task_advice"],
  constraints: ["constraints_content", "constraints_format", "constraints_length", "constraint_kinds"],
  outputLength: ["output_long", "output_short", "log_requested_words"],
  language: ["english_share", "script_cjk", "script_other"],
  lengthByKind: ["log_chars_math", "log_chars_open"],
} as const satisfies Record<string, readonly (typeof DENSE_FEATURES)[number][]>;

/** A group of version-2 dense features (see `FEATURE_GROUPS`). */
export type FeatureGroup = keyof typeof FEATURE_GROUPS;

/** Every version-2 group: a candidate without them all has version 1's dense features. */
export const V2_GROUPS = Object.keys(FEATURE_GROUPS) as FeatureGroup[];

/**
 * How a candidate is chosen from its per-source cross-validated APGR:
 * - "mean": the best mean over the sources;
 * - "guarded": the reference candidate (the first of the grid) sets a floor for MMLU and GSM8K,
 *   and among the candidates at or above it on both, the best Arena-Hard APGR wins (the reference
 *   itself when no other one qualifies). The issue's rule (the benchmarks no lower than before) as
 *   a constraint measured on the same folds as everything else.
 */
export type Selection = "mean" | "guarded";

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
  /** How a candidate is chosen (inner folds per outer fold; outer folds for the shipped model). */
  selection: Selection;
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
  // The first candidate is version 1's configuration (MMLU + GSM8K only, its 34 dense features): the
  // "guarded" selection keeps it unless another one is at least as good on MMLU and GSM8K on the
  // same folds, and then takes the best Arena-Hard among those.
  candidates: [
    { learningRate: 0.005, balance: null, without: V2_GROUPS },
    { learningRate: 0.005, balance: 0, without: V2_GROUPS },
    { learningRate: 0.005, balance: 0.02, without: V2_GROUPS },
    { learningRate: 0.005, balance: 0 },
    { learningRate: 0.005, balance: 0.02 },
    { learningRate: 0.005, balance: 0.05 },
  ],
  selection: "guarded",
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
  /** Mean outer-fold APGR of each candidate (mean over benchmarks). */
  candidateApgr: number[];
  /** Mean outer-fold APGR of each candidate per benchmark, for the final choice. */
  candidateBySource: SourceApgr[];
}

/** APGR per benchmark (NaN where a subset has too few rows of it or no quality gap). */
export type SourceApgr = Record<Benchmark, number>;

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

/** Mean of the finite values of a per-benchmark record (NaN when none is). */
function meanOf(a: SourceApgr): number {
  const xs = BENCHMARKS.map((b) => a[b]).filter((x) => Number.isFinite(x));
  return xs.length > 0 ? xs.reduce((x, y) => x + y, 0) / xs.length : Number.NaN;
}

/** APGR per benchmark with enough rows and a quality gap in `subset`. */
function sourceApgr(rows: readonly RoutingRow[], subset: ArrayLike<number>, scores: ArrayLike<number>): SourceApgr {
  const out = { mmlu: Number.NaN, gsm8k: Number.NaN, arenahard: Number.NaN, alpacaeval: Number.NaN };
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
    out[b] = evaluateRouter(s, st, wk).apgr;
  }
  return out;
}

/**
 * Index of the chosen candidate given each one's per-benchmark APGR (see `Selection`). NaN never
 * wins; ties keep the first. A benchmark the reference has no figure for sets no floor, and without
 * any Arena-Hard figure (a run trained without it) "guarded" falls back to the mean.
 */
export function chooseCandidate(apgrs: readonly SourceApgr[], selection: Selection): number {
  if (selection === "mean" || apgrs.length === 0) return argmax(apgrs.map(meanOf));
  const ref = apgrs[0]!;
  const qualifies = (a: SourceApgr): boolean =>
    (["mmlu", "gsm8k"] as const).every((b) => !Number.isFinite(ref[b]) || a[b] >= ref[b]);
  const byArena = apgrs.some((a) => Number.isFinite(a.arenahard));
  return argmax(apgrs.map((a) => (qualifies(a) ? (byArena ? a.arenahard : meanOf(a)) : Number.NaN)));
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
  /** The matrix without some dense feature groups, per `without` key (built on first use). */
  masked: Map<string, FeatureMatrix>;
  /** Loss weights per row, one array per balance value of the grid. */
  weightsByBalance: Map<number, Float64Array>;
  targets: Float64Array;
  options: TrainOptions;
}

/** The feature matrix a candidate sees: dense slots of its left-out groups removed. */
function matrixFor(ctx: Context, candidate: Candidate): FeatureMatrix {
  const without = candidate.without ?? [];
  if (without.length === 0) return ctx.matrix;
  const key = [...without].sort().join(",");
  const cached = ctx.masked.get(key);
  if (cached) return cached;
  const drop = new Set<number>(without.flatMap((g) => FEATURE_GROUPS[g].map((name) => DENSE_FEATURES.indexOf(name))));
  const m = ctx.matrix;
  const offsets = new Int32Array(m.rows + 1);
  const idx: number[] = [];
  const val: number[] = [];
  for (let r = 0; r < m.rows; r++) {
    for (let k = m.offsets[r]!; k < m.offsets[r + 1]!; k++) {
      if (drop.has(m.indices[k]!)) continue;
      idx.push(m.indices[k]!);
      val.push(m.values[k]!);
    }
    offsets[r + 1] = idx.length;
  }
  const masked: FeatureMatrix = { rows: m.rows, dim: m.dim, offsets, indices: Int32Array.from(idx), values: Float64Array.from(val) };
  ctx.masked.set(key, masked);
  return masked;
}

function fit(ctx: Context, subset: Int32Array, candidate: Candidate): LinearModel {
  // balance null: the open-chat rows are left out of the fit (they are still scored and measured).
  const rows = candidate.balance === null ? subset.filter((r) => ctx.rows[r]!.benchmark === "mmlu" || ctx.rows[r]!.benchmark === "gsm8k") : subset;
  return fitLogistic(matrixFor(ctx, candidate), rows, ctx.targets, ctx.weightsByBalance.get(candidate.balance ?? 0)!, {
    l2: ctx.options.l2,
    epochs: ctx.options.epochs,
    learningRate: candidate.learningRate,
    seed: ctx.options.seed,
  });
}

function logitsOf(ctx: Context, subset: Int32Array, model: LinearModel): Float64Array {
  // A left-out group's weights are 0, so the full matrix gives the same logits.
  return Float64Array.from(subset, (r) => rowLogit(ctx.matrix, r, model));
}

/** Mean APGR per benchmark of each candidate over a k-fold split of `subset` given by `foldOfRow`. */
function compareCandidates(ctx: Context, subset: Int32Array, foldOfRow: (row: number) => number, k: number): SourceApgr[] {
  const byFold = Array.from({ length: k }, () => ({ train: [] as number[], test: [] as number[] }));
  for (const r of subset) {
    const f = foldOfRow(r);
    byFold.forEach((split, g) => (g === f ? split.test : split.train).push(r));
  }
  return ctx.options.candidates.map((candidate) => {
    const acc = new SourceMean();
    for (const { train, test } of byFold) {
      if (train.length === 0 || test.length === 0) continue;
      const model = fit(ctx, Int32Array.from(train), candidate);
      const testIdx = Int32Array.from(test);
      acc.add(sourceApgr(ctx.rows, testIdx, logitsOf(ctx, testIdx, model)));
    }
    return acc.mean();
  });
}

/** Running mean per benchmark over folds, skipping folds where a benchmark has no figure. */
class SourceMean {
  private readonly sum = new Map<Benchmark, { total: number; n: number }>();
  add(a: SourceApgr): void {
    for (const b of BENCHMARKS) {
      if (!Number.isFinite(a[b])) continue;
      const s = this.sum.get(b) ?? { total: 0, n: 0 };
      s.total += a[b];
      s.n++;
      this.sum.set(b, s);
    }
  }
  mean(): SourceApgr {
    const out = { mmlu: Number.NaN, gsm8k: Number.NaN, arenahard: Number.NaN, alpacaeval: Number.NaN };
    for (const [b, s] of this.sum) out[b] = s.total / s.n;
    return out;
  }
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

/** Short name of a candidate for logs and reports, e.g. "lr0.005/balance0.02/v1-dense". */
export function describe(c: Candidate): string {
  const without = c.without ?? [];
  const groups = without.length === 0 ? "" : without.length === V2_GROUPS.length ? "/v1-dense" : `/without-${without.join("+")}`;
  return `lr${c.learningRate}/${c.balance === null ? "no-arenahard" : `balance${c.balance}`}${groups}`;
}

function fmt(a: SourceApgr): string {
  return BENCHMARKS.map((b) => a[b].toFixed(3)).join("/");
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
    masked: new Map(),
    weightsByBalance: new Map(options.candidates.map((c) => [c.balance ?? 0, sampleWeights(rows, c.balance ?? 0, options.gsm8kBalance)] as const)),
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
  const candidateOuter = options.candidates.map(() => new SourceMean());
  for (let f = 0; f < options.folds; f++) {
    const train = Int32Array.from(rows.keys()).filter((r) => folds[r] !== f);
    const test = Int32Array.from(rows.keys()).filter((r) => folds[r] === f);
    if (train.length === 0 || test.length === 0) throw new RangeError(`fold ${f} is empty: too few rows for ${options.folds} folds`);
    const innerApgr = compareCandidates(ctx, train, (r) => inner[r]!, options.innerFolds);
    const choice = options.candidates[chooseCandidate(innerApgr, options.selection)]!;
    selected.push(choice);
    // Every candidate also scores this outer fold: that comparison picks the shipped model's
    // configuration (step 3), never this fold's own model.
    let foldApgr: SourceApgr | undefined;
    options.candidates.forEach((candidate, c) => {
      const model = fit(ctx, train, candidate);
      const testLogits = logitsOf(ctx, test, model);
      const a = sourceApgr(rows, test, testLogits);
      candidateOuter[c]!.add(a);
      if (candidate === choice) {
        const map = buildScoreMap(logitsOf(ctx, train, model), mixWeights(rows, train));
        test.forEach((r, k) => (scores[r] = applyScoreMap(map, testLogits[k]!)));
        foldApgr = a;
      }
    });
    options.log(
      `fold ${f + 1}/${options.folds}: ${train.length} train / ${test.length} held out; inner CV picked ${describe(choice)} ` +
        `(inner APGR ${BENCHMARKS.join("/")}: ${innerApgr.map(fmt).join(" ")}); held-out ${fmt(foldApgr!)}`,
    );
  }
  const candidateBySource = candidateOuter.map((m) => m.mean());
  return { folds, scores, selected, candidateApgr: candidateBySource.map(meanOf), candidateBySource };
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
  const candidate = options.candidates[chooseCandidate(apgrs, options.selection)]!;
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
  const best = options.candidates[chooseCandidate(cv.candidateBySource, options.selection)]!;
  options.log(
    `outer-fold APGR per candidate (${BENCHMARKS.join("/")}): ${options.candidates.map((c, i) => `${describe(c)} ${fmt(cv.candidateBySource[i]!)}`).join(", ")}`,
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
      selection: options.selection,
      candidates: options.candidates.map((c, i) => ({
        ...c,
        outerFoldApgr: round(cv.candidateApgr[i]!, 4),
        outerFoldApgrBySource: Object.fromEntries(BENCHMARKS.map((b) => [b, round(cv.candidateBySource[i]![b], 4)])),
      })),
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
