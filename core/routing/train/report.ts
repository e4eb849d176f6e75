/**
 * Sceptical evaluation helpers for `npm run route:eval`: a router's APGR / CPT next to the baselines
 * measured in the same run on the same rows (random routing, prompt-length routing, and the oracle
 * ceiling), pooled per prompt and per (weak model, judge) pair of the open-chat sources, as the data
 * README's sanity table does.
 */
import type { PairJudgment, RoutingRow } from "./dataset";
import { evaluateRouter, randomBaseline } from "./metrics";

/** APGR and CPTs of one router (or baseline) on one set of rows. */
export interface Figures {
  rows: number;
  apgr: number;
  cpt50: number;
  cpt80: number;
}

/** A router's figures and the same-run baselines, on one set of rows. */
export interface Comparison {
  /** Mean strong / weak quality of the rows (S and W). */
  strong: number;
  weak: number;
  router: Figures;
  /** Mean of `RANDOM_RUNS` seeded uniform scorings. */
  random: Figures;
  /** Longer prompt -> strong model. */
  length: Figures;
  /** Routes by each row's own outcome (strong - weak): a ceiling, not a router; above 1 where the weak model wins some rows. */
  oracle: Figures;
}

/** Random scorings averaged for the random baseline (as the data README). */
export const RANDOM_RUNS = 200;

function figures(scores: ArrayLike<number>, strong: readonly number[], weak: readonly number[]): Figures {
  const e = evaluateRouter(scores, strong, weak);
  return { rows: strong.length, apgr: e.apgr, cpt50: e.cpt50, cpt80: e.cpt80 };
}

/**
 * Compares a router's scores with random, length and oracle routing on the same items.
 *
 * @param items what is routed: prompt text and the recorded quality of each model's answer
 * @param scores the router's score per item (higher = strong model)
 */
export function compare(items: readonly { prompt: string; strong: number; weak: number }[], scores: ArrayLike<number>): Comparison {
  const strong = items.map((r) => r.strong);
  const weak = items.map((r) => r.weak);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  return {
    strong: mean(strong),
    weak: mean(weak),
    router: figures(scores, strong, weak),
    random: { rows: items.length, ...randomBaseline(strong, weak, RANDOM_RUNS, 1) },
    length: figures(
      items.map((r) => r.prompt.length),
      strong,
      weak,
    ),
    oracle: figures(
      items.map((r) => r.strong - r.weak),
      strong,
      weak,
    ),
  };
}

/**
 * Per-pair comparisons for an open-chat source: each (weak model, judge) pair's judgments, scored by
 * the router's score of their prompt. `rows` carries the prompt text and score of each prompt.
 */
export function comparePerPair(
  rows: readonly RoutingRow[],
  scores: ArrayLike<number>,
  judgments: readonly PairJudgment[],
): { pair: string; comparison: Comparison }[] {
  const byPrompt = new Map<string, { prompt: string; score: number }>();
  rows.forEach((r, i) => byPrompt.set(r.promptId, { prompt: r.prompt, score: scores[i]! }));
  const pairs = [...new Set(judgments.map((j) => j.pair))].sort();
  return pairs.map((pair) => {
    const js = judgments.filter((j) => j.pair === pair && byPrompt.has(j.promptId));
    const items = js.map((j) => ({ prompt: byPrompt.get(j.promptId)!.prompt, strong: j.strong, weak: j.weak }));
    return { pair, comparison: compare(items, js.map((j) => byPrompt.get(j.promptId)!.score)) };
  });
}
