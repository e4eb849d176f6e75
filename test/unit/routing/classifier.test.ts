import { describe, expect, it } from "vitest";
import {
  classifier,
  createClassifier,
  defaultWeights,
  InvalidRoutingWeights,
  type RoutingWeights,
} from "../../../core/routing/classifier";
import { DENSE_COUNT, DENSE_FEATURES, FEATURE_VERSION } from "../../../core/routing/features";

/** Hand-made weights: every weight 0, so the logit is the bias and the score map is checkable. */
function handMade(bias: number, overrides: Partial<RoutingWeights> = {}): RoutingWeights {
  const buckets = 64;
  return {
    format: defaultWeights.format,
    featureVersion: FEATURE_VERSION,
    features: { buckets, bigrams: true, dense: [...DENSE_FEATURES] },
    model: { kind: "logistic", bias, weights: new Array<number>(DENSE_COUNT + buckets).fill(0) },
    scoreMap: { logits: [-1, 0, 1], scores: [0, 0.5, 1] },
    calibration: { basis: "test", points: [] },
    ...overrides,
  };
}

const inputs = [
  "",
  "hi",
  "What is the capital of France?",
  "Which of the following is NOT a prime number?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:",
  "Janet's ducks lay 16 eggs per day. She eats three for breakfast and sells the rest for $2 each. How much does she make?",
  "x".repeat(20_000),
  "日本語の質問です ∫ x² dx",
  [{ role: "user", content: "Summarize this contract clause." }],
  [{ role: "assistant", content: "no user message here" }],
];

describe("default classifier", () => {
  it("scores every input in [0, 1]", () => {
    for (const input of inputs) {
      // Act
      const s = classifier.score(input);

      // Assert
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }
  });

  it("is deterministic, also when calls are interleaved (shared scratch buffer)", () => {
    // Arrange
    const first = inputs.map((i) => classifier.score(i));

    // Act
    const second = [...inputs].reverse().map((i) => classifier.score(i)).reverse();

    // Assert
    expect(second).toEqual(first);
  });

  it("spreads benchmark-style prompts over the scale instead of collapsing them", () => {
    // Act
    const scores = inputs.map((i) => classifier.score(i));

    // Assert
    expect(Math.max(...scores) - Math.min(...scores)).toBeGreaterThan(0.3);
  });

  it("leans to the LLM for a long conversation with code compared with the same message alone", () => {
    // Arrange
    const message = "Now make it recursive";
    const conversation = [
      { role: "user", content: "Write a function that walks a directory tree and sums file sizes." },
      { role: "assistant", content: "```ts\nfunction walk(dir: string): number { /* ... */ return 0; }\n```" },
      { role: "user", content: "It fails on symlinks, fix it" },
      { role: "assistant", content: "```ts\n// fixed\n```" },
      { role: "user", content: message },
    ];

    // Act / Assert
    expect(classifier.logit(conversation)).toBeGreaterThan(classifier.logit(message));
  });

  it("ships weights that match this feature code and carry provenance", () => {
    // Assert
    expect(defaultWeights.featureVersion).toBe(FEATURE_VERSION);
    expect(defaultWeights.calibration.points.length).toBeGreaterThan(10);
    const training = defaultWeights.training as { data: { sha256: string; rows: Record<string, number> } };
    expect(training.data.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(training.data.rows.mmlu).toBeGreaterThan(0);
  });
});

describe("createClassifier", () => {
  it("maps the logit through the piecewise-linear score map", () => {
    // Act / Assert: all weights 0, so logit = bias
    expect(createClassifier(handMade(0.5)).score("anything")).toBeCloseTo(0.75, 12);
    expect(createClassifier(handMade(-0.5)).score("anything")).toBeCloseTo(0.25, 12);
    expect(createClassifier(handMade(5)).score("anything")).toBe(1);
    expect(createClassifier(handMade(-5)).score("anything")).toBe(0);
  });

  it("uses the dense weights", () => {
    // Arrange: only the multiple-choice feature carries weight
    const w = handMade(0);
    w.model.weights[DENSE_FEATURES.indexOf("multiple_choice")] = 0.8;
    const c = createClassifier(w);

    // Act / Assert
    expect(c.score("Pick one:\nA. yes\nB. no\nAnswer:")).toBeCloseTo(0.9, 12);
    expect(c.score("Pick one: yes or no")).toBeCloseTo(0.5, 12);
  });

  it("rejects weights of another feature version, size or an unordered score map", () => {
    expect(() => createClassifier(handMade(0, { featureVersion: "routing-features/0" }))).toThrow(InvalidRoutingWeights);
    const short = handMade(0);
    short.model.weights.pop();
    expect(() => createClassifier(short)).toThrow(/weights, expected/);
    expect(() => createClassifier(handMade(0, { scoreMap: { logits: [0, 0], scores: [0, 1] } }))).toThrow(InvalidRoutingWeights);
    expect(() => createClassifier(handMade(0, { features: { buckets: 63, bigrams: true, dense: [...DENSE_FEATURES] } }))).toThrow(
      /power of two/,
    );
  });
});
