import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClassifier, type RoutingWeights } from "../../../core/routing/classifier";
import { FEATURE_VERSION } from "../../../core/routing/features";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const tsx = join(root, "node_modules/.bin/tsx");

const STRONG = "correct_gpt-4-1106-preview";
const WEAK = "correct_mixtral-8x7b-instruct-v0.1";

/**
 * A small synthetic data directory with a planted signal: prompts that mention "zebra" are the
 * ones only the strong model gets right, so a working trainer must rank them first.
 */
function writeSyntheticData(dir: string): void {
  const topics = ["apples", "trains", "planets", "rivers", "poems", "taxes", "cells", "songs"];
  const row = (i: number, kind: "mmlu" | "gsm8k") => {
    const hard = i % 4 === 0;
    const both = i % 4 === 1 || i % 4 === 2;
    const topic = topics[i % topics.length]!;
    const text =
      kind === "mmlu"
        ? `Question ${i} about ${topic}${hard ? " and the zebra" : ""}?\nA. one\nB. two\nC. three\nD. four\nAnswer:`
        : `Sam has ${i} ${topic}${hard ? " and a zebra" : ""}. He buys ${i % 7} more. How many now?`;
    return { prompt: text, [STRONG]: hard || both, [WEAK]: both, routellm_contaminated: i === 3 };
  };
  const mmlu = Array.from({ length: 160 }, (_, i) => JSON.stringify({ domain: "synthetic", ...row(i, "mmlu") })).join("\n");
  const gsm = Array.from({ length: 80 }, (_, i) => JSON.stringify({ idx: i, ...row(i, "gsm8k") })).join("\n");
  writeFileSync(join(dir, "routellm_mmlu.jsonl.gz"), gzipSync(`${mmlu}\n`));
  writeFileSync(join(dir, "routellm_gsm8k.jsonl"), `${gsm}\n`);
  // Open chat: 60 prompts judged by two (weak model, judge) pairs each; the strong model wins clearly
  // only on the "zebra" prompts.
  const open = Array.from({ length: 60 }, (_, i) => {
    const hard = i % 4 === 0;
    const prompt = `Tell me about ${topics[i % topics.length]} number ${i}${hard ? " and the zebra" : ""}.`;
    return ["weak-a", "weak-b"].map((weak, k) => {
      const label = hard ? 0.95 - k * 0.05 : 0.45 + k * 0.05;
      return JSON.stringify({ prompt_id: `open:${i}`, prompt, weak_model: weak, judge: "judge; synthetic", strong_score: label, weak_score: 1 - label });
    });
  }).flat();
  mkdirSync(join(dir, "open"), { recursive: true });
  writeFileSync(join(dir, "open/arenahard_v01.jsonl.gz"), gzipSync(`${open.join("\n")}\n`));
  // AlpacaEval-shaped evaluation file: the same planted signal, other prompts.
  const alpaca = Array.from({ length: 40 }, (_, i) => {
    const hard = i % 4 === 0;
    const prompt = `Describe ${topics[(i + 3) % topics.length]} case ${i}${hard ? " with the zebra" : ""}.`;
    return ["weak-c", "weak-d"].map((weak) => {
      const label = hard ? 0.9 : 0.5;
      return JSON.stringify({ prompt_id: `alpaca:${i}`, prompt, weak_model: weak, judge: "judge; synthetic", strong_score: label, weak_score: 1 - label });
    });
  }).flat();
  writeFileSync(join(dir, "open/alpacaeval2.jsonl.gz"), gzipSync(`${alpaca.join("\n")}\n`));
}

function train(dataDir: string, out: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, AGENTORG_ROUTING_DATA: dataDir };
  delete env.SOURCE_DATE_EPOCH;
  return spawnSync(tsx, ["core/routing/train/train.ts", "--out", out], { cwd: root, env, encoding: "utf8", timeout: 120_000 });
}

describe("route:train", () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), "agentorg-routing-"));
    writeSyntheticData(work);
  });

  afterAll(() => {
    rmSync(work, { recursive: true, force: true });
  });

  it("writes byte-identical weights on two runs and learns the planted signal on held-out folds", () => {
    // Arrange
    const first = join(work, "a.json");
    const second = join(work, "b.json");

    // Act
    const runA = train(work, first);
    const runB = train(work, second);

    // Assert
    expect(runA.status, runA.stderr).toBe(0);
    expect(runB.status, runB.stderr).toBe(0);
    expect(runA.stdout).toBe("");
    expect(runA.stderr).toMatch(/fold 5\/5/);
    const bytes = readFileSync(first, "utf8");
    expect(readFileSync(second, "utf8")).toBe(bytes);

    const weights = JSON.parse(bytes) as RoutingWeights & {
      training: { data: { rows: Record<string, number> }; date: string | null };
      evaluation: Record<string, { apgr: number; rows: number }>;
    };
    expect(weights.featureVersion).toBe(FEATURE_VERSION);
    expect(weights.training.data.rows).toEqual({ mmlu: 160, gsm8k: 80, arenahard: 60 }); // one row per open-chat prompt
    expect(weights.training.date).toBeNull();
    expect(weights.evaluation.mmlu!.rows).toBe(159); // the contaminated row is left out
    expect(weights.evaluation.mmlu!.apgr).toBeGreaterThan(0.7);
    expect(weights.evaluation.gsm8k!.apgr).toBeGreaterThan(0.7);
    expect(weights.evaluation.arenahard!.apgr).toBeGreaterThan(0.7);

    const c = createClassifier(weights);
    expect(c.score("Question 999 about rivers and the zebra?\nA. a\nB. b\nAnswer:")).toBeGreaterThan(
      c.score("Question 999 about rivers?\nA. a\nB. b\nAnswer:"),
    );
  });

  it("route:eval prints the within-source, cross-source and AlpacaEval tables with same-run baselines", () => {
    // Act
    const env: NodeJS.ProcessEnv = { ...process.env, AGENTORG_ROUTING_DATA: work };
    const result = spawnSync(tsx, ["core/routing/train/evaluate.ts"], { cwd: root, env, encoding: "utf8", timeout: 120_000 });

    // Assert
    expect(result.status, result.stderr).toBe(0);
    const out = result.stdout;
    expect(out).toContain("### Within each source");
    expect(out).toContain("### Across sources (trained without the tested source)");
    expect(out).toContain("### AlpacaEval 2 (CC BY-NC: never trained on), the shipped router");
    expect(out).toMatch(/\| router APGR \| CPT\(50%\) \| CPT\(80%\) \| random \| length \| oracle \|/);
    // Pooled and per (weak model, judge) pair for each open-chat source.
    expect(out).toMatch(/\| AlpacaEval 2 \| pooled \(mean label per prompt\) \| 40 \|/);
    expect(out).toMatch(/\| AlpacaEval 2 \| weak-c, judge \| 40 \|/);
    expect(out).toMatch(/\| Arena-Hard v0\.1 \| weak-b, judge \| 60 \|/);
    // The contaminated MMLU row stays out of every MMLU figure.
    expect(out).toMatch(/\| MMLU \| all non-contaminated \| 159 \|/);
    // The planted signal carries over to the never-trained-on source.
    const pooled = /\| AlpacaEval 2 \| pooled \(mean label per prompt\) \| 40 \| [^|]+\| \*\*([0-9.]+)\*\*/.exec(out);
    expect(Number(pooled?.[1])).toBeGreaterThan(0.7);
  });

  it("fails with a clear message when the data directory is missing", () => {
    // Act
    const result = train(join(work, "does-not-exist"), join(work, "c.json"));

    // Assert
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/missing .*routellm_gsm8k\.jsonl/);
  });
});
