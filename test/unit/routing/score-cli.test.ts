import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { classifier } from "../../../core/routing/classifier";
import { BALANCED_THRESHOLD } from "../../../core/routing/policy";

const root = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const tsx = join(root, "node_modules/.bin/tsx");

function runScore(stdin: string) {
  return spawnSync(tsx, ["core/routing/train/score.ts"], { cwd: root, input: stdin, encoding: "utf8", timeout: 60_000 });
}

describe("route:score CLI", () => {
  it("writes one score line per prompt, in order, and nothing else", () => {
    // Arrange
    const prompts = [
      "hi",
      "Which of the following is NOT a prime number?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:",
      "Janet's ducks lay 16 eggs per day. She sells the rest for $2 each. How much does she make?",
    ];
    const stdin = `${prompts.map((prompt) => JSON.stringify({ prompt })).join("\n")}\n\n`;

    // Act
    const result = runScore(stdin);

    // Assert
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(prompts.length);
    lines.forEach((line, i) => {
      const parsed = JSON.parse(line) as { score: number; tier: string };
      expect(Object.keys(parsed)).toEqual(["score", "tier"]);
      expect(parsed.score).toBe(classifier.score(prompts[i]!));
      expect(parsed.tier).toBe(parsed.score >= BALANCED_THRESHOLD ? "llm" : "slm");
    });
  });

  it("accepts a conversation in messages", () => {
    // Arrange
    const messages = [
      { role: "user", content: "What is 2 + 2?" },
      { role: "assistant", content: "4" },
      { role: "user", content: "And times 3?" },
    ];

    // Act
    const result = runScore(`${JSON.stringify({ messages })}\n`);

    // Assert
    expect(result.status).toBe(0);
    expect(JSON.parse(result.stdout) as { score: number }).toMatchObject({ score: classifier.score(messages) });
  });

  it("stops at a bad line with its number on stderr and a non-zero exit", () => {
    // Arrange
    const stdin = `${JSON.stringify({ prompt: "ok" })}\n{"prompt": 42}\n${JSON.stringify({ prompt: "never scored" })}\n`;

    // Act
    const result = runScore(stdin);

    // Assert
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/^route:score: line 2: missing string field "prompt"/);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(1);
  });

  it("reports invalid JSON the same way", () => {
    const result = runScore("not json\n");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/line 1: not JSON/);
    expect(result.stdout).toBe("");
  });
});
