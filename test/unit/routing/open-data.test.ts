import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertTrainable,
  loadDataset,
  loadEvaluationSource,
  parseOpenSource,
  RoutingLicenceError,
  TRAINABLE_SOURCES,
  type RoutingDataset,
  type RoutingRow,
} from "../../../core/routing/train/dataset";
import { assignFolds, crossValidate, DEFAULT_TRAIN_OPTIONS, sampleWeights, targetsFor, trainAndScore, trainRouter } from "../../../core/routing/train/pipeline";
import { compare, comparePerPair } from "../../../core/routing/train/report";

/** One open-chat judgment line as the shared data files have them. */
function judgment(promptId: string, prompt: string, weak: string, judge: string, label: number): string {
  return JSON.stringify({
    id: `${promptId}:${weak}:${judge}`,
    source: "test",
    prompt_id: promptId,
    prompt,
    weak_model: weak,
    judge: `${judge}; test judge`,
    strong_score: label,
    weak_score: 1 - label,
    label,
  });
}

const STRONG = "correct_gpt-4-1106-preview";
const WEAK = "correct_mixtral-8x7b-instruct-v0.1";

function benchRow(i: number): RoutingRow {
  return { benchmark: "mmlu", promptId: `q${i}`, prompt: `Question ${i}?\nA. a\nB. b\nAnswer:`, strong: i % 2, weak: 0, contaminated: false };
}

describe("open-chat data", () => {
  it("aggregates every (weak model, judge) pair of a prompt into one row with the mean scores", () => {
    // Arrange
    const text = [
      judgment("p1", "Write a haiku", "small-a", "judge-x", 1),
      judgment("p2", "Explain DNS", "small-a", "judge-x", 0.5),
      judgment("p1", "Write a haiku", "small-b", "judge-y", 0.5),
    ].join("\n");

    // Act
    const { rows, judgments } = parseOpenSource(text, "test.jsonl", "arenahard");

    // Assert
    expect(rows.map((r) => [r.promptId, r.strong, r.weak])).toEqual([
      ["p1", 0.75, 0.25],
      ["p2", 0.5, 0.5],
    ]);
    expect(judgments.map((j) => j.pair)).toEqual(["small-a | judge-x", "small-a | judge-x", "small-b | judge-y"]);
  });

  it("rejects a prompt_id that carries two different prompts, naming the line", () => {
    const text = [judgment("p1", "one text", "a", "j", 1), judgment("p1", "another text", "b", "j", 1)].join("\n");
    expect(() => parseOpenSource(text, "bad.jsonl", "arenahard")).toThrow(/bad\.jsonl:2: prompt_id p1/);
  });

  it("keeps all rows of a prompt in one fold (grouped by prompt_id, not by row)", () => {
    // Arrange: three rows per prompt_id, as repeated judgments would be
    const rows = Array.from({ length: 300 }, (_, i) => ({ promptId: `prompt-${Math.floor(i / 3)}` }));

    // Act
    const { folds, inner } = assignFolds(rows, { folds: 5, innerFolds: 4, seed: 7 });

    // Assert
    for (let i = 0; i < rows.length; i += 3) {
      expect(new Set([folds[i], folds[i + 1], folds[i + 2]]).size).toBe(1);
      expect(new Set([inner[i], inner[i + 1], inner[i + 2]]).size).toBe(1);
    }
    expect(new Set(folds).size).toBe(5); // and the prompts do spread over every fold
  });

  it("shifts the open-chat source's targets onto the benchmarks' mean, one constant per source", () => {
    // Arrange
    const rows: RoutingRow[] = [
      benchRow(1), // target 1
      benchRow(2), // target 0.5
      { benchmark: "arenahard", promptId: "a", prompt: "x", strong: 1, weak: 0, contaminated: false }, // 1
      { benchmark: "arenahard", promptId: "b", prompt: "y", strong: 0.8, weak: 0.2, contaminated: false }, // 0.8
    ];

    // Act
    const open = targetsFor(rows, "open");
    const none = targetsFor(rows, "none");

    // Assert: benchmark mean 0.75, Arena-Hard mean 0.9 -> Arena-Hard shifted by -0.15
    expect(Array.from(none)).toEqual([1, 0.5, 1, expect.closeTo(0.8, 12)]);
    expect(Array.from(open)).toEqual([1, 0.5, expect.closeTo(0.85, 12), expect.closeTo(0.65, 12)]);
    expect(open[2]! - open[3]!).toBeCloseTo(none[2]! - none[3]!, 12);
  });

  it("up-weights smaller sources toward the largest one", () => {
    const rows: RoutingRow[] = [benchRow(1), benchRow(2), benchRow(3), benchRow(4), { ...benchRow(5), benchmark: "arenahard" }];
    // MMLU has 4 rows, Arena-Hard 1: weight 1 + 0.5 * (4 / 1 - 1) = 2.5
    expect(Array.from(sampleWeights(rows, 0.5))).toEqual([1, 1, 1, 1, 2.5]);
  });
});

describe("licence guard", () => {
  const alpacaRow: RoutingRow = {
    benchmark: "alpacaeval",
    promptId: "alpacaeval2:0",
    prompt: "What are the names of some famous actors that started their careers on Broadway?",
    strong: 0.9,
    weak: 0.1,
    contaminated: false,
  };
  const dataset = (rows: RoutingRow[]): RoutingDataset => ({ dir: "test", rows, judgments: [], sha256: "0".repeat(64) });
  const rows = Array.from({ length: 40 }, (_, i) => benchRow(i));

  it("allows only the sources whose licence permits shipped weights", () => {
    expect(TRAINABLE_SOURCES).toEqual(["mmlu", "gsm8k", "arenahard"]);
    expect(() => assertTrainable(rows)).not.toThrow();
  });

  it("refuses to train, cross-validate or run a cross-source fit on AlpacaEval rows", () => {
    const tainted = dataset([...rows, alpacaRow]);
    const quiet = { ...DEFAULT_TRAIN_OPTIONS, folds: 2, innerFolds: 2 };
    expect(() => trainRouter(tainted, quiet)).toThrow(RoutingLicenceError);
    expect(() => crossValidate(tainted, quiet)).toThrow(/refusing to train on alpacaeval: its data licence is CC BY-NC/);
    expect(() => trainAndScore(tainted, [alpacaRow], quiet)).toThrow(RoutingLicenceError);
    // Scoring AlpacaEval with a router trained on permitted rows is what evaluation does, and is allowed.
    expect(trainAndScore(dataset(rows), [alpacaRow], quiet).scores).toHaveLength(1);
  });

  describe("loading", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), "agentorg-licence-"));
      mkdirSync(join(dir, "open"));
      writeFileSync(join(dir, "routellm_gsm8k.jsonl"), `${JSON.stringify({ prompt: "1+1?", [STRONG]: true, [WEAK]: false })}\n`);
      writeFileSync(join(dir, "routellm_mmlu.jsonl.gz"), gzipSync(`${JSON.stringify({ prompt: "Q?\nA. a\nB. b", [STRONG]: true, [WEAK]: true })}\n`));
      writeFileSync(join(dir, "open/arenahard_v01.jsonl.gz"), gzipSync(`${judgment("ah:1", "Write a SCIM server in PHP", "w", "j", 1)}\n`));
      writeFileSync(join(dir, "open/alpacaeval2.jsonl.gz"), gzipSync(`${judgment("ae:1", "Name Broadway actors", "w", "j", 0.9)}\n`));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("never puts AlpacaEval into the training set; it loads only as an evaluation source", () => {
      // Act
      const training = loadDataset(dir);
      const evaluation = loadEvaluationSource(dir);

      // Assert
      expect(training.rows.map((r) => r.benchmark).sort()).toEqual(["arenahard", "gsm8k", "mmlu"]);
      expect(evaluation.rows.map((r) => r.benchmark)).toEqual(["alpacaeval"]);
      expect(evaluation.judgments).toHaveLength(1);
    });
  });
});

describe("report baselines", () => {
  it("compares a router with length, oracle and random routing on a hand-computed case", () => {
    // Arrange: 10 prompts; judged strong share 1 on the two longest prompts, 0.5 elsewhere, so
    // S = 0.6, W = 0.4 and only those two prompts carry any gap.
    const items = Array.from({ length: 10 }, (_, i) => ({
      prompt: "x".repeat(i + 1),
      strong: i >= 8 ? 1 : 0.5,
      weak: i >= 8 ? 0 : 0.5,
    }));
    const inverted = items.map((_, i) => 10 - i); // a router that prefers short prompts

    // Act
    const c = compare(items, inverted);

    // Assert: routing by length is the oracle order here: PGR reaches 0.5 at 10%, 1 at 20% and stays,
    // so APGR = (0.025 + 0.075 + 8 * 0.1) = 0.9; the inverted router reaches the gap only at 90%/100%.
    expect(c.strong).toBeCloseTo(0.6, 12);
    expect(c.weak).toBeCloseTo(0.4, 12);
    expect(c.length.apgr).toBeCloseTo(0.9, 12);
    expect(c.oracle.apgr).toBeCloseTo(0.9, 12);
    expect(c.length.cpt50).toBeCloseTo(0.1, 12);
    expect(c.router.apgr).toBeCloseTo(0.1, 12);
    expect(c.router.cpt50).toBeCloseTo(0.9, 12);
    expect(c.random.apgr).toBeGreaterThan(0.3);
    expect(c.random.apgr).toBeLessThan(0.7);
  });

  it("evaluates each (weak model, judge) pair on its own judgments with the prompt's score", () => {
    // Arrange
    const rows: RoutingRow[] = ["p1", "p2"].map((id, i) => ({ benchmark: "alpacaeval", promptId: id, prompt: id, strong: 0.5, weak: 0.5, contaminated: false }));
    const judgments = [
      { benchmark: "alpacaeval" as const, promptId: "p1", pair: "b | j", strong: 1, weak: 0 },
      { benchmark: "alpacaeval" as const, promptId: "p2", pair: "b | j", strong: 0, weak: 1 },
      { benchmark: "alpacaeval" as const, promptId: "p1", pair: "a | j", strong: 0, weak: 1 },
      { benchmark: "alpacaeval" as const, promptId: "p2", pair: "a | j", strong: 1, weak: 0 },
    ];

    // Act: the router prefers p1
    const result = comparePerPair(rows, [0.9, 0.1], judgments);

    // Assert: sorted by pair; p1 is the right call for pair "b" and the wrong one for pair "a"
    expect(result.map((r) => r.pair)).toEqual(["a | j", "b | j"]);
    expect(result[1]!.comparison.router.apgr).toBeGreaterThan(result[0]!.comparison.router.apgr);
    expect(result[1]!.comparison.router.apgr).toBeCloseTo(result[1]!.comparison.oracle.apgr, 12);
  });
});
