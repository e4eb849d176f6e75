/**
 * `npm run route:eval`: held-out APGR / CPT(50%) / CPT(80%) of our router on MMLU and GSM8K next to
 * random routing and RouteLLM's published numbers.
 *
 * It reruns the same nested cross-validation as `route:train` (same folds, seed and candidates), so
 * every score comes from a model that never saw the row, and rows marked `routellm_contaminated`
 * are left out, as RouteLLM does.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { dataDir, loadDataset, REPO_ROOT, type Benchmark } from "./dataset";
import { evaluateRouter, randomBaseline } from "./metrics";
import { crossValidate, DEFAULT_TRAIN_OPTIONS, heldOutEvaluation } from "./pipeline";

/** RouteLLM paper (arXiv 2406.18665), GPT-4-1106 vs Mixtral, as listed in the data README. */
const PUBLISHED: Record<Benchmark, { random: Row; best: Row }> = {
  mmlu: {
    random: { name: "RouteLLM random (published)", apgr: 0.5, cpt50: 0.5007, cpt80: 0.7993 },
    best: { name: "RouteLLM best: SW ranking (published)", apgr: 0.603, cpt50: 0.354, cpt80: 0.7155 },
  },
  gsm8k: {
    random: { name: "RouteLLM random (published)", apgr: 0.497, cpt50: 0.5, cpt80: 0.8008 },
    best: { name: "RouteLLM best: causal LLM (published)", apgr: 0.622, cpt50: 0.3364, cpt80: 0.6326 },
  },
};

interface Row {
  name: string;
  rows?: number;
  apgr: number;
  cpt50: number;
  cpt80: number;
}

const RANDOM_RUNS = 200;

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

function main(): void {
  const started = performance.now();
  const log = (line: string): void => {
    process.stderr.write(`[route:eval ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
  };
  const dataset = loadDataset(dataDir());
  log(`${dataset.rows.length} rows from ${dataset.dir}; nested ${DEFAULT_TRAIN_OPTIONS.folds}-fold cross-validation`);
  const cv = crossValidate(dataset, { ...DEFAULT_TRAIN_OPTIONS, log });
  const ours = heldOutEvaluation(dataset.rows, cv.scores);

  const table: string[][] = [["benchmark", "router", "rows", "APGR", "CPT(50%)", "CPT(80%)"]];
  for (const benchmark of ["mmlu", "gsm8k"] as const) {
    const e = ours[benchmark];
    if (!e) continue;
    const idx = [...dataset.rows.keys()].filter((i) => dataset.rows[i]!.benchmark === benchmark && !dataset.rows[i]!.contaminated);
    const strong = idx.map((i) => dataset.rows[i]!.strong);
    const weak = idx.map((i) => dataset.rows[i]!.weak);
    const random = randomBaseline(strong, weak, RANDOM_RUNS, 1);
    // The oracle knows each outcome: the ceiling any router could reach on this data.
    const oracle = evaluateRouter(
      idx.map((i) => dataset.rows[i]!.strong - dataset.rows[i]!.weak),
      strong,
      weak,
    );
    const rows: Row[] = [
      { name: "agentorg text features (held-out folds)", rows: e.rows, apgr: e.apgr, cpt50: e.cpt50, cpt80: e.cpt80 },
      { name: `random (mean of ${RANDOM_RUNS} seeds)`, rows: e.rows, ...random },
      PUBLISHED[benchmark].random,
      PUBLISHED[benchmark].best,
      { name: "oracle (knows outcomes; ceiling)", rows: e.rows, apgr: oracle.apgr, cpt50: oracle.cpt50, cpt80: oracle.cpt80 },
    ];
    for (const r of rows) {
      table.push([benchmark.toUpperCase(), r.name, r.rows === undefined ? "-" : String(r.rows), r.apgr.toFixed(3), pct(r.cpt50), pct(r.cpt80)]);
    }
  }

  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const line = (row: string[]): string =>
    row.map((cell, c) => (c >= 2 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join("  ");
  const out = [line(table[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...table.slice(1).map(line)];
  process.stdout.write(`${out.join("\n")}\n`);
  process.stdout.write(
    "\nCPT(x) = share of calls sent to the LLM to recover x of the quality gap (lower is better). " +
      "Rows marked routellm_contaminated are excluded.\n",
  );

  // weights.json stores the same held-out numbers; a mismatch means it was trained on other data or code.
  try {
    const shipped = JSON.parse(readFileSync(join(REPO_ROOT, "core/routing/weights.json"), "utf8")) as {
      training?: { data?: { sha256?: string } };
      evaluation?: Record<string, { apgr: number }>;
    };
    const same = shipped.training?.data?.sha256 === dataset.sha256;
    const drift = (["mmlu", "gsm8k"] as const).some((b) => {
      const stored = shipped.evaluation?.[b]?.apgr;
      return stored !== undefined && ours[b] !== undefined && Math.abs(stored - ours[b].apgr) > 5e-4;
    });
    if (!same || drift) log("note: core/routing/weights.json was trained on other data or code; run npm run route:train");
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
