/**
 * Router quality metrics, computed the way RouteLLM's `routellm/evals/evaluate.py` and
 * `benchmarks.py` do (see shared/data/routing/README.md):
 *
 * - thresholds are the 11 edges of `pd.qcut(scores, 10)`: the 0%, 10%, ..., 100% quantiles of the
 *   scores with linear interpolation (pandas' default), duplicates kept;
 * - at edge i a prompt goes to the strong model when `score >= edge`, except at the last edge where
 *   it is `score > edge` (so the last point is 0% strong calls);
 * - Q(p) is the mean recorded outcome of the model each prompt was sent to; PGR(p) = (Q - W) / (S - W);
 * - APGR is the trapezoid area under quality over strong share, normalized by the same area for the
 *   weak and strong models (`np.trapz`);
 * - CPT(x) is the smallest strong share at which PGR reaches x, interpolated linearly between grid
 *   points (what `np.interp` returns when quality rises with the strong share).
 */

/** One operating point of a router on a benchmark. */
export interface CurvePoint {
  /** Score threshold: prompts with `score >= threshold` go to the strong model (`>` at the last point). */
  threshold: number;
  /** Share of prompts sent to the strong model, 0..1. */
  strongShare: number;
  /** Mean outcome (accuracy) of the routed answers, 0..1. */
  quality: number;
  /** Performance gap recovered: (quality - weak) / (strong - weak). */
  pgr: number;
}

/** Everything a router evaluation reports. */
export interface RouterEvaluation {
  /** Curve points sorted by ascending strong share. */
  curve: CurvePoint[];
  apgr: number;
  /** CPT(50%) and CPT(80%) as strong-call shares 0..1. */
  cpt50: number;
  cpt80: number;
  strongQuality: number;
  weakQuality: number;
}

/**
 * Quantile of an ascending-sorted array with linear interpolation between order statistics
 * (numpy/pandas "linear": position q * (n - 1)).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("quantile of an empty array");
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const frac = pos - lo;
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return frac === 0 ? a : a + (b - a) * frac;
}

function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/**
 * Quality/PGR curve of a router on one benchmark, one point per score-quantile edge.
 *
 * @param scores router score per prompt (higher = wants the strong model more)
 * @param strong outcome of the strong model per prompt (1 correct, 0 wrong; any number works)
 * @param weak outcome of the weak model per prompt
 * @param bins number of quantile bins; RouteLLM uses 10, giving 11 points
 */
export function routingCurve(
  scores: ArrayLike<number>,
  strong: ArrayLike<number>,
  weak: ArrayLike<number>,
  bins = 10,
): CurvePoint[] {
  const n = scores.length;
  if (n === 0 || strong.length !== n || weak.length !== n) {
    throw new RangeError(`routingCurve needs equal, non-empty arrays (scores ${n}, strong ${strong.length}, weak ${weak.length})`);
  }
  const s = mean(strong);
  const w = mean(weak);
  const sorted = Float64Array.from(scores).sort();
  const points: CurvePoint[] = [];
  for (let i = 0; i <= bins; i++) {
    const threshold = quantileSorted(sorted, i / bins);
    const last = i === bins;
    let strongCalls = 0;
    let total = 0;
    for (let j = 0; j < n; j++) {
      const x = scores[j]!;
      const toStrong = last ? x > threshold : x >= threshold;
      if (toStrong) {
        strongCalls++;
        total += strong[j]!;
      } else {
        total += weak[j]!;
      }
    }
    const quality = total / n;
    points.push({ threshold, strongShare: strongCalls / n, quality, pgr: (quality - w) / (s - w) });
  }
  // Stable sort: equal shares (tied scores) keep their threshold order and add zero area.
  return points.sort((a, b) => a.strongShare - b.strongShare);
}

/**
 * Average performance gap recovered: trapezoid area under quality(strong share), normalized so
 * that always-weak scores 0 and always-strong scores 1 (RouteLLM's `apgr_metric`).
 */
export function apgr(curve: readonly CurvePoint[], strongQuality: number, weakQuality: number): number {
  if (curve.length < 2) throw new RangeError("APGR needs at least two curve points");
  let auc = 0;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    auc += ((b.strongShare - a.strongShare) * (a.quality + b.quality)) / 2;
  }
  const width = curve[curve.length - 1]!.strongShare - curve[0]!.strongShare;
  const weakAuc = weakQuality * width;
  const strongAuc = strongQuality * width;
  return (auc - weakAuc) / (strongAuc - weakAuc);
}

/**
 * Call-performance threshold: the smallest strong-call share at which PGR reaches `x`, linearly
 * interpolated between the two grid points around the first crossing. Returns the largest share on
 * the curve when PGR never reaches `x` (as `np.interp` clamps).
 */
export function cpt(curve: readonly CurvePoint[], x: number): number {
  const first = curve[0];
  if (!first) throw new RangeError("CPT of an empty curve");
  if (first.pgr >= x) return first.strongShare;
  for (let i = 1; i < curve.length; i++) {
    const a = curve[i - 1]!;
    const b = curve[i]!;
    if (b.pgr >= x && a.pgr < x) {
      return a.strongShare + ((x - a.pgr) * (b.strongShare - a.strongShare)) / (b.pgr - a.pgr);
    }
  }
  return curve[curve.length - 1]!.strongShare;
}

/** Full RouteLLM-style evaluation of one router on one benchmark. */
export function evaluateRouter(
  scores: ArrayLike<number>,
  strong: ArrayLike<number>,
  weak: ArrayLike<number>,
  bins = 10,
): RouterEvaluation {
  const curve = routingCurve(scores, strong, weak, bins);
  const strongQuality = mean(strong);
  const weakQuality = mean(weak);
  return {
    curve,
    apgr: apgr(curve, strongQuality, weakQuality),
    cpt50: cpt(curve, 0.5),
    cpt80: cpt(curve, 0.8),
    strongQuality,
    weakQuality,
  };
}

/** Seeded 32-bit PRNG (mulberry32): reproducible shuffles and random baselines without dependencies. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random routing baseline: the mean APGR / CPT of `runs` routers that draw a uniform random score
 * per prompt (RouteLLM's "random" router), each seeded from `seed`.
 */
export function randomBaseline(
  strong: ArrayLike<number>,
  weak: ArrayLike<number>,
  runs = 200,
  seed = 1,
): { apgr: number; cpt50: number; cpt80: number } {
  const n = strong.length;
  const scores = new Float64Array(n);
  let a = 0;
  let c50 = 0;
  let c80 = 0;
  for (let r = 0; r < runs; r++) {
    const rand = mulberry32(seed + r);
    for (let i = 0; i < n; i++) scores[i] = rand();
    const e = evaluateRouter(scores, strong, weak);
    a += e.apgr;
    c50 += e.cpt50;
    c80 += e.cpt80;
  }
  return { apgr: a / runs, cpt50: c50 / runs, cpt80: c80 / runs };
}
