/**
 * `npm run route:eval`: the router measured the way a sceptic would, every figure next to random
 * routing, prompt-length routing and the oracle ceiling measured in the same run on the same rows.
 *
 * 1. Within each source: the out-of-fold scores of the nested cross-validation that `route:train`
 *    runs (folds by prompt, hyper-parameters chosen on training folds only), per training source;
 *    MMLU and GSM8K without `routellm_contaminated` rows, next to RouteLLM's published figures.
 * 2. Across sources: for each training source, a router trained on the other permitted sources only
 *    (hyper-parameters picked on them) and tested on it.
 * 3. AlpacaEval (CC BY-NC, never trained on): the shipped router, and a router trained on MMLU and
 *    GSM8K only for comparison. Nothing is ever chosen by looking at AlpacaEval.
 *
 * Open-chat sources are reported pooled (mean label per prompt) and per (weak model, judge) pair.
 * Output: Markdown tables on stdout (BENCHMARKS.md quotes them); progress on stderr.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createClassifier } from "../classifier";
import { dataDir, loadDataset, loadEvaluationSource, REPO_ROOT, type Benchmark, type RoutingDataset } from "./dataset";
import { BENCHMARKS, describe, serializeWeights, trainAndScore, trainRouter, DEFAULT_TRAIN_OPTIONS, type TrainOptions } from "./pipeline";
import { compare, comparePerPair, type Comparison } from "./report";

/** RouteLLM paper (arXiv 2406.18665), GPT-4-1106 vs Mixtral, as listed in the data README. */
const PUBLISHED: Partial<Record<Benchmark, { name: string; apgr: number; cpt50: number; cpt80: number }>> = {
  mmlu: { name: "RouteLLM best published (SW ranking)", apgr: 0.603, cpt50: 0.354, cpt80: 0.7155 },
  gsm8k: { name: "RouteLLM best published (causal LLM)", apgr: 0.622, cpt50: 0.3364, cpt80: 0.6326 },
};

const NAMES: Record<Benchmark, string> = { mmlu: "MMLU", gsm8k: "GSM8K", arenahard: "Arena-Hard v0.1", alpacaeval: "AlpacaEval 2" };

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** One Markdown table row per comparison: router APGR / CPT(50%) / CPT(80%), then the baselines. */
function header(): string[] {
  return [
    "| source | rows (pair) | n | S / W | router APGR | CPT(50%) | CPT(80%) | random | length | oracle |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
}

function line(source: string, what: string, c: Comparison): string {
  const r = c.router;
  what = what.replace(" | ", ", "); // a pair is "weak | judge"; a bar would split the Markdown cell
  return (
    `| ${source} | ${what} | ${r.rows} | ${c.strong.toFixed(3)} / ${c.weak.toFixed(3)} | **${r.apgr.toFixed(3)}** | ${pct(r.cpt50)} | ${pct(r.cpt80)} | ` +
    `${c.random.apgr.toFixed(3)} | ${c.length.apgr.toFixed(3)} | ${c.oracle.apgr.toFixed(3)} |`
  );
}

/** Pooled and per-pair lines for one source's rows and scores. */
function report(source: Benchmark, dataset: RoutingDataset, rowIdx: readonly number[], scores: ArrayLike<number>, out: string[]): Comparison {
  const rows = rowIdx.map((i) => dataset.rows[i]!);
  const s = rowIdx.map((i) => scores[i]!);
  const pooled = compare(rows, s);
  const open = source === "arenahard" || source === "alpacaeval";
  out.push(line(NAMES[source], open ? "pooled (mean label per prompt)" : "all non-contaminated", pooled));
  if (open) {
    const judgments = dataset.judgments.filter((j) => j.benchmark === source);
    for (const { pair, comparison } of comparePerPair(rows, s, judgments)) out.push(line(NAMES[source], pair, comparison));
  }
  return pooled;
}

function indicesOf(dataset: RoutingDataset, source: Benchmark): number[] {
  return [...dataset.rows.keys()].filter((i) => dataset.rows[i]!.benchmark === source && !dataset.rows[i]!.contaminated);
}

function main(): void {
  const started = performance.now();
  const log = (text: string): void => {
    process.stderr.write(`[route:eval ${((performance.now() - started) / 1000).toFixed(1)}s] ${text}\n`);
  };
  const options: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, log };
  const dir = dataDir();
  const dataset = loadDataset(dir);
  const alpaca = loadEvaluationSource(dir, "alpacaeval");
  log(`${dataset.rows.length} training rows, ${alpaca.rows.length} AlpacaEval prompts (evaluation only) from ${dir}`);

  // 1. Within each source: the same nested cross-validation and final model as route:train.
  const { weights, cv } = trainRouter(dataset, options);
  const out: string[] = [];
  out.push("### Within each source (out-of-fold scores of the nested cross-validation)", "", ...header());
  for (const source of BENCHMARKS) report(source, dataset, indicesOf(dataset, source), cv.scores, out);
  out.push("", "RouteLLM published (GPT-4-1106 vs Mixtral, never trained on these questions):", "");
  for (const source of ["mmlu", "gsm8k"] as const) {
    const p = PUBLISHED[source]!;
    out.push(`- ${NAMES[source]}: ${p.name} APGR ${p.apgr.toFixed(3)}, CPT(50%) ${pct(p.cpt50)}, CPT(80%) ${pct(p.cpt80)}`);
  }

  // 2. Across sources: train without a source, test on it.
  out.push("", "### Across sources (trained without the tested source)", "", ...header());
  for (const held of BENCHMARKS) {
    const train: RoutingDataset = { ...dataset, rows: dataset.rows.filter((r) => r.benchmark !== held) };
    const idx = indicesOf(dataset, held);
    log(`cross-source: training without ${held}`);
    const { candidate, scores } = trainAndScore(
      train,
      idx.map((i) => dataset.rows[i]!),
      options,
    );
    const full = new Float64Array(dataset.rows.length);
    idx.forEach((i, k) => (full[i] = scores[k]!));
    report(held, dataset, idx, full, out);
    out.push(`|  | ↑ trained on ${BENCHMARKS.filter((b) => b !== held).map((b) => NAMES[b]).join(" + ")} (inner CV picked ${describe(candidate)}) | | | | | | | | |`);
  }

  // 3. AlpacaEval, never trained on: the shipped router (the weights route:train writes).
  const shipped = createClassifier(weights);
  const alpacaIdx = [...alpaca.rows.keys()];
  out.push("", "### AlpacaEval 2 (CC BY-NC: never trained on), the shipped router", "", ...header());
  report("alpacaeval", alpaca, alpacaIdx, Float64Array.from(alpaca.rows, (r) => shipped.score(r.prompt)), out);
  log("AlpacaEval: a router trained on MMLU + GSM8K only, for comparison");
  const benchOnly: RoutingDataset = { ...dataset, rows: dataset.rows.filter((r) => r.benchmark !== "arenahard") };
  const { scores: benchScores } = trainAndScore(benchOnly, alpaca.rows, options);
  out.push("", "### AlpacaEval 2, a router trained on MMLU + GSM8K only (same features)", "", ...header());
  report("alpacaeval", alpaca, alpacaIdx, benchScores, out);

  process.stdout.write(`${out.join("\n")}\n`);
  process.stdout.write(
    "\nAPGR: area under the share of the quality gap recovered over 11 decile points (RouteLLM's evaluate.py). " +
      "CPT(x): share of calls sent to the strong model to recover x of the gap (lower is better). random: mean of 200 " +
      "seeded scorings; length: longer prompt -> strong; oracle: routes by the row's own outcome (a ceiling, above 1 " +
      "where the weak model wins some rows). S / W: mean quality of the strong / weak model.\n",
  );

  // weights.json should be exactly what this run trained; otherwise the figures are not the shipped router's.
  try {
    const file = readFileSync(join(REPO_ROOT, "core/routing/weights.json"), "utf8");
    if (file !== serializeWeights({ ...weights })) log("note: core/routing/weights.json differs from this run's model; run npm run route:train");
  } catch {
    log("note: core/routing/weights.json is missing or unreadable");
  }
}

try {
  main();
} catch (error) {
  process.stderr.write(`route:eval failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
