/**
 * Loads the router training data (shared/data/routing, see its README) and splits it into folds.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";

export type Benchmark = "mmlu" | "gsm8k";

/** One prompt with the recorded outcome of each model. */
export interface RoutingRow {
  benchmark: Benchmark;
  prompt: string;
  /** 1 when GPT-4-1106-preview answered correctly. */
  strong: number;
  /** 1 when Mixtral-8x7B-Instruct answered correctly. */
  weak: number;
  /** Too close to RouteLLM's router training data: excluded when comparing with RouteLLM. */
  contaminated: boolean;
}

export interface RoutingDataset {
  dir: string;
  rows: RoutingRow[];
  /** sha256 over the decompressed files, in a fixed order: identifies the training data. */
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

const STRONG = "correct_gpt-4-1106-preview";
const WEAK = "correct_mixtral-8x7b-instruct-v0.1";

export const FILES: Readonly<Record<Benchmark, string>> = {
  gsm8k: "routellm_gsm8k.jsonl",
  mmlu: "routellm_mmlu.jsonl.gz",
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

function parseLines(text: string, file: string, benchmark: Benchmark, rows: RoutingRow[]): void {
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
    const r = raw as Record<string, unknown>;
    if (typeof r.prompt !== "string" || typeof r[STRONG] !== "boolean" || typeof r[WEAK] !== "boolean") {
      throw new RoutingDataError(`${file}:${i + 1}: needs string "prompt" and boolean "${STRONG}", "${WEAK}"`);
    }
    rows.push({
      benchmark,
      prompt: r.prompt,
      strong: r[STRONG] ? 1 : 0,
      weak: r[WEAK] ? 1 : 0,
      contaminated: r.routellm_contaminated === true,
    });
  }
}

/** Reads both benchmark files of `dir` (gzip for MMLU). */
export function loadDataset(dir: string = dataDir()): RoutingDataset {
  const rows: RoutingRow[] = [];
  const hash = createHash("sha256");
  for (const benchmark of ["gsm8k", "mmlu"] as const) {
    const file = join(dir, FILES[benchmark]);
    if (!existsSync(file)) throw new RoutingDataError(`missing ${file} (set AGENTORG_ROUTING_DATA to the data directory)`);
    const bytes = readFileSync(file);
    const text = (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
    hash.update(`${FILES[benchmark]}\n`).update(text);
    parseLines(text, file, benchmark, rows);
  }
  return { dir, rows, sha256: hash.digest("hex") };
}

/**
 * Fold of a row, from a hash of its prompt text: duplicated prompts (MMLU has ~100) always land
 * in the same fold, so a held-out fold never contains a prompt the model was trained on.
 */
export function foldOf(prompt: string, folds: number, seed: number): number {
  const hash = createHash("sha256").update(`${seed}\n${prompt}`).digest();
  return hash.readUInt32BE(0) % folds;
}
