/**
 * `npm run route:train [-- --out path]`: trains the router on shared/data/routing (or
 * $AGENTORG_ROUTING_DATA) and writes core/routing/weights.json (or `--out`). Progress goes to stderr
 * so stdout stays clean. Reproducible: running it twice writes the same bytes; set SOURCE_DATE_EPOCH
 * to stamp a date into the metadata without breaking that.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { dataDir, loadDataset, REPO_ROOT } from "./dataset";
import { DEFAULT_TRAIN_OPTIONS, serializeWeights, trainRouter } from "./pipeline";

function sourceDateEpoch(): number | null {
  const raw = process.env.SOURCE_DATE_EPOCH;
  if (raw === undefined || raw === "") return null;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`SOURCE_DATE_EPOCH must be a Unix time in seconds, got "${raw}"`);
  return n;
}

function main(): void {
  const { values } = parseArgs({ options: { out: { type: "string" } } });
  const out = values.out !== undefined ? resolve(values.out) : join(REPO_ROOT, "core/routing/weights.json");
  const started = performance.now();
  const log = (line: string): void => {
    process.stderr.write(`[route:train ${((performance.now() - started) / 1000).toFixed(1)}s] ${line}\n`);
  };
  const dir = dataDir();
  log(`reading ${dir}`);
  const dataset = loadDataset(dir);
  log(`${dataset.rows.length} rows, sha256 ${dataset.sha256.slice(0, 12)}`);
  const { weights } = trainRouter(dataset, { ...DEFAULT_TRAIN_OPTIONS, sourceDateEpoch: sourceDateEpoch(), log });
  writeFileSync(out, serializeWeights(weights));
  const evaluation = weights.evaluation as Record<string, { apgr: number; cpt50: number; cpt80: number }>;
  for (const [benchmark, e] of Object.entries(evaluation)) {
    log(`held-out ${benchmark}: APGR ${e.apgr.toFixed(3)}, CPT(50%) ${(e.cpt50 * 100).toFixed(1)}%, CPT(80%) ${(e.cpt80 * 100).toFixed(1)}%`);
  }
  log(`wrote ${out}`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`route:train failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
