/**
 * Loads the router training and evaluation data (shared/data/routing, see its README) and splits it
 * into folds.
 *
 * Sources and what their licences allow:
 * - `mmlu`, `gsm8k`: RouteLLM's per-prompt outcomes (Apache-2.0), GPT-4-1106 vs Mixtral-8x7B;
 * - `arenahard`: Arena-Hard-Auto v0.1 judgments (Apache-2.0), GPT-4-0314 vs ten weak model / judge pairs;
 * - `alpacaeval`: AlpacaEval 2 judgments, data CC BY-NC 4.0 (non-commercial): evaluation and study
 *   only, never in the shipped weights. The trainer refuses it (`assertTrainable`).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

/** A data source (the name is historical: two of them are open-chat judgment sets, not benchmarks). */
export type Benchmark = "mmlu" | "gsm8k" | "arenahard" | "alpacaeval";

/** Sources whose licence allows training the weights that ship in the product, in training order. */
export const TRAINABLE_SOURCES: readonly Benchmark[] = ["mmlu", "gsm8k", "arenahard"];

/** Sources for evaluation and study only (non-commercial data licence). */
export const EVALUATION_ONLY_SOURCES: readonly Benchmark[] = ["alpacaeval"];

/** Licence of each source's data, as the data README states it. */
export const SOURCE_LICENCES: Readonly<Record<Benchmark, string>> = {
  mmlu: "Apache-2.0 (lm-sys/RouteLLM evals)",
  gsm8k: "Apache-2.0 (lm-sys/RouteLLM evals)",
  arenahard: "Apache-2.0 (lmarena/arena-hard-auto prompts, judgment files from Apache-2.0 forks)",
  alpacaeval: "CC BY-NC 4.0 (tatsu-lab/alpaca_eval data): evaluation and study only",
};

/**
 * One prompt with the recorded outcome of each model. For the open-chat sources a row is the mean
 * over every (weak model, judge) pair that judged the prompt: `strong` = mean `strong_score`,
 * `weak` = mean `weak_score`, so `(strong - weak + 1) / 2` is the mean label.
 */
export interface RoutingRow {
  benchmark: Benchmark;
  /** Groups the rows of one prompt: the file's `prompt_id` for open chat, the prompt text otherwise. */
  promptId: string;
  prompt: string;
  /** Quality of the strong model's answer (1 correct / 0 wrong, or a judged share in [0, 1]). */
  strong: number;
  /** Quality of the weak model's answer on the same scale. */
  weak: number;
  /** Too close to RouteLLM's router training data: excluded when comparing with RouteLLM. */
  contaminated: boolean;
}

/** One (prompt, weak model, judge) judgment of an open-chat source, for per-pair evaluation. */
export interface PairJudgment {
  benchmark: Benchmark;
  promptId: string;
  /** `weak model | judge` (the judge's name up to the first ";"). */
  pair: string;
  strong: number;
  weak: number;
}

export interface RoutingDataset {
  dir: string;
  /** One row per prompt (open-chat sources aggregated over their pairs). */
  rows: RoutingRow[];
  /** The open-chat judgments behind the aggregated rows, one per (prompt, pair). */
  judgments: PairJudgment[];
  /** sha256 over the decompressed files, in a fixed order: identifies the data. */
  sha256: string;
}

/** Raised when the data directory or one of its lines is unusable; names the file and line. */
export class RoutingDataError extends Error {
  readonly code = "routing_data_invalid";
  constructor(message: string) {
    super(message);
    this.name = "RoutingDataError";
  }
}

/** Raised when a source whose licence forbids it would end up in trained weights. */
export class RoutingLicenceError extends Error {
  readonly code = "routing_licence_forbids_training";
  constructor(message: string) {
    super(message);
    this.name = "RoutingLicenceError";
  }
}

const STRONG = "correct_gpt-4-1106-preview";
const WEAK = "correct_mixtral-8x7b-instruct-v0.1";

export const FILES: Readonly<Record<Benchmark, string>> = {
  gsm8k: "routellm_gsm8k.jsonl",
  mmlu: "routellm_mmlu.jsonl.gz",
  arenahard: "open/arenahard_v01.jsonl.gz",
  alpacaeval: "open/alpacaeval2.jsonl.gz",
};

/** Repository root, found from this file's location so scripts work from any working directory. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/**
 * The data directory: `AGENTORG_ROUTING_DATA` when set, otherwise `../shared/data/routing`
 * relative to the repository root.
 */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.AGENTORG_ROUTING_DATA;
  if (fromEnv !== undefined && fromEnv !== "") return resolve(fromEnv);
  return resolve(REPO_ROOT, "../shared/data/routing");
}

/**
 * Throws RoutingLicenceError when any row comes from a source that may not be trained on. Every
 * path that fits weights (cross-validation, the shipped model, cross-source runs) calls it.
 */
export function assertTrainable(rows: readonly { benchmark: Benchmark }[]): void {
  for (const r of rows) {
    if (!TRAINABLE_SOURCES.includes(r.benchmark)) {
      throw new RoutingLicenceError(
        `refusing to train on ${r.benchmark}: its data licence is ${SOURCE_LICENCES[r.benchmark]}; ` +
          `only ${TRAINABLE_SOURCES.join(", ")} may be in the weights`,
      );
    }
  }
}

function* jsonLines(text: string, file: string): Generator<{ line: number; record: Record<string, unknown> }> {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (error) {
      throw new RoutingDataError(`${file}:${i + 1}: not JSON (${(error as Error).message})`);
    }
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new RoutingDataError(`${file}:${i + 1}: not an object`);
    yield { line: i + 1, record: raw as Record<string, unknown> };
  }
}

function parseBenchmark(text: string, file: string, benchmark: Benchmark, rows: RoutingRow[]): void {
  for (const { line, record: r } of jsonLines(text, file)) {
    if (typeof r.prompt !== "string" || typeof r[STRONG] !== "boolean" || typeof r[WEAK] !== "boolean") {
      throw new RoutingDataError(`${file}:${line}: needs string "prompt" and boolean "${STRONG}", "${WEAK}"`);
    }
    rows.push({
      benchmark,
      promptId: r.prompt,
      prompt: r.prompt,
      strong: r[STRONG] ? 1 : 0,
      weak: r[WEAK] ? 1 : 0,
      contaminated: r.routellm_contaminated === true,
    });
  }
}

const isScore = (x: unknown): x is number => typeof x === "number" && x >= 0 && x <= 1;

/**
 * Parses an open-chat judgment file into its judgments and one aggregated row per prompt (first-seen
 * order, so the result is deterministic). Aggregating by the mean over pairs conditions on the judge
 * and weak model the simple way: every pair judged (almost) every prompt, so a judge that is kinder to
 * weak models shifts all prompts alike and leaves the ranking a router must learn unchanged.
 */
export function parseOpenSource(text: string, file: string, benchmark: Benchmark): { rows: RoutingRow[]; judgments: PairJudgment[] } {
  const judgments: PairJudgment[] = [];
  const byPrompt = new Map<string, { prompt: string; strong: number; weak: number; n: number }>();
  for (const { line, record: r } of jsonLines(text, file)) {
    if (
      typeof r.prompt_id !== "string" ||
      typeof r.prompt !== "string" ||
      typeof r.weak_model !== "string" ||
      typeof r.judge !== "string" ||
      !isScore(r.strong_score) ||
      !isScore(r.weak_score)
    ) {
      throw new RoutingDataError(
        `${file}:${line}: needs string "prompt_id", "prompt", "weak_model", "judge" and "strong_score", "weak_score" in [0, 1]`,
      );
    }
    const pair = `${r.weak_model} | ${r.judge.split(";")[0]!.trim()}`;
    judgments.push({ benchmark, promptId: r.prompt_id, pair, strong: r.strong_score, weak: r.weak_score });
    const agg = byPrompt.get(r.prompt_id);
    if (agg === undefined) byPrompt.set(r.prompt_id, { prompt: r.prompt, strong: r.strong_score, weak: r.weak_score, n: 1 });
    else if (agg.prompt !== r.prompt) throw new RoutingDataError(`${file}:${line}: prompt_id ${r.prompt_id} has two different prompts`);
    else {
      agg.strong += r.strong_score;
      agg.weak += r.weak_score;
      agg.n++;
    }
  }
  const rows = [...byPrompt].map(([promptId, a]) => ({
    benchmark,
    promptId,
    prompt: a.prompt,
    strong: a.strong / a.n,
    weak: a.weak / a.n,
    contaminated: false,
  }));
  return { rows, judgments };
}

function loadSources(dir: string, sources: readonly Benchmark[]): RoutingDataset {
  const rows: RoutingRow[] = [];
  const judgments: PairJudgment[] = [];
  const hash = createHash("sha256");
  for (const benchmark of sources) {
    const file = join(dir, FILES[benchmark]);
    if (!existsSync(file)) throw new RoutingDataError(`missing ${file} (set AGENTORG_ROUTING_DATA to the data directory)`);
    const bytes = readFileSync(file);
    const text = (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
    hash.update(`${FILES[benchmark]}\n`).update(text);
    if (benchmark === "mmlu" || benchmark === "gsm8k") parseBenchmark(text, file, benchmark, rows);
    else {
      const open = parseOpenSource(text, file, benchmark);
      rows.push(...open.rows);
      judgments.push(...open.judgments);
    }
  }
  return { dir, rows, judgments, sha256: hash.digest("hex") };
}

/** Reads the sources the shipped weights may be trained on (GSM8K, MMLU, Arena-Hard) from `dir`. */
export function loadDataset(dir: string = dataDir()): RoutingDataset {
  return loadSources(dir, ["gsm8k", "mmlu", "arenahard"]);
}

/** Reads an evaluation-only source (AlpacaEval): for measuring a router, never for training one. */
export function loadEvaluationSource(dir: string = dataDir(), source: Benchmark = "alpacaeval"): RoutingDataset {
  return loadSources(dir, [source]);
}

/**
 * Fold of a prompt, from a hash of its group key (`promptId`): every row and judgment of a prompt
 * (duplicated MMLU questions, every weak model / judge pair of an open-chat prompt) lands in the same
 * fold, so a held-out fold never contains a prompt the model was trained on.
 */
export function foldOf(promptId: string, folds: number, seed: number): number {
  const hash = createHash("sha256").update(`${seed}\n${promptId}`).digest();
  return hash.readUInt32BE(0) % folds;
}
