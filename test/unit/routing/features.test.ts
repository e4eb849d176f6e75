import { describe, expect, it } from "vitest";
import {
  createFeatureVector,
  DENSE_COUNT,
  DENSE_FEATURES,
  extractFeatures,
  featureDimension,
  taskTypeOf,
  TASK_TYPES,
  type FeatureConfig,
  type FeatureVector,
} from "../../../core/routing/features";

const config: FeatureConfig = { buckets: 1024, bigrams: true };

/** Dense slot values by name, hashed buckets as a sorted multiset. */
function view(v: FeatureVector): { dense: Record<string, number>; hashed: number[] } {
  const dense: Record<string, number> = {};
  const hashed: number[] = [];
  for (let k = 0; k < v.length; k++) {
    const i = v.indices[k]!;
    if (i < DENSE_COUNT) dense[DENSE_FEATURES[i]!] = v.values[k]!;
    else hashed.push(i);
  }
  return { dense, hashed: hashed.sort((a, b) => a - b) };
}

const mmluPrompt =
  "Which of the following is NOT a prime number?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:";
const gsmPrompt = "Janet has 16 eggs. She eats 3 and sells the rest for $2 each. How much does she make?";

describe("extractFeatures", () => {
  it("keeps every index inside the feature dimension", () => {
    // Act
    const v = extractFeatures(mmluPrompt, config);

    // Assert
    expect(v.length).toBeGreaterThan(10);
    for (let k = 0; k < v.length; k++) {
      expect(v.indices[k]).toBeGreaterThanOrEqual(0);
      expect(v.indices[k]).toBeLessThan(featureDimension(config));
      expect(Number.isFinite(v.values[k])).toBe(true);
    }
  });

  it("hashes words case-insensitively", () => {
    // Act
    const lower = view(extractFeatures("explain the integral of x", config));
    const upper = view(extractFeatures("EXPLAIN The Integral Of X", config));

    // Assert
    expect(upper.hashed).toEqual(lower.hashed);
    expect(upper.dense.upper_share).toBeGreaterThan(0);
    expect(lower.dense.upper_share).toBeUndefined();
  });

  it("treats numbers by shape, not value", () => {
    // Act
    const a = view(extractFeatures("I have 16 eggs and 3.5 pounds", config));
    const b = view(extractFeatures("I have 42 eggs and 7.25 pounds", config));
    const c = view(extractFeatures("I have 1600 eggs and 7.25 pounds", config));

    // Assert
    expect(b.hashed).toEqual(a.hashed);
    expect(c.hashed).not.toEqual(a.hashed);
    expect(a.dense.decimal_or_fraction).toBe(1);
  });

  it("recognizes the multiple-choice format and math word problems", () => {
    // Act
    const mc = view(extractFeatures(mmluPrompt, config));
    const word = view(extractFeatures(gsmPrompt, config));

    // Assert
    expect(mc.dense.multiple_choice).toBe(1);
    expect(mc.dense.log_stem_chars).toBeGreaterThan(0);
    expect(mc.dense.kw_negation).toBeGreaterThan(0);
    expect(word.dense.multiple_choice).toBeUndefined();
    expect(word.dense.log_numbers).toBeGreaterThan(0);
    expect(word.dense.log_money_percent).toBeGreaterThan(0);
  });

  it("flags code and keyword families", () => {
    // Act
    const code = view(extractFeatures("Fix this python function: `def f(x): return {x: 1};`", config));
    const legal = view(extractFeatures("Is the defendant liable under the contract if the court finds negligence?", config));

    // Assert
    expect(code.dense.code_markers).toBeGreaterThan(0);
    expect(code.dense.kw_code).toBeGreaterThan(0);
    expect(legal.dense.kw_legal).toBeGreaterThan(0);
    expect(legal.dense.kw_code).toBeUndefined();
  });

  it("scores the last user message and adds conversation context features", () => {
    // Arrange
    const conversation = [
      { role: "system", content: "You are helpful." },
      { role: "user", content: "Write a python function to sort a list." },
      { role: "assistant", content: "```py\ndef f(xs): return sorted(xs)\n```" },
      { role: "user", content: "Now explain its complexity" },
    ];

    // Act
    const chat = view(extractFeatures(conversation, config));
    const single = view(extractFeatures("Now explain its complexity", config));

    // Assert
    expect(chat.hashed).toEqual(single.hashed);
    expect(chat.dense.log_turns).toBeGreaterThan(0);
    expect(chat.dense.log_context_chars).toBeGreaterThan(0);
    expect(chat.dense.context_has_code).toBe(1);
    expect(single.dense.log_turns).toBeUndefined();
  });

  it("handles empty input, a conversation without user messages and unicode", () => {
    // Act / Assert
    expect(extractFeatures("", config).length).toBe(0);
    expect(extractFeatures([], config).length).toBe(0);
    expect(view(extractFeatures([{ role: "assistant", content: "hello there" }], config)).hashed.length).toBeGreaterThan(0);
    const u = view(extractFeatures("Что такое ∫ x² dx × 3 ÷ 2? 日本語", config));
    expect(u.dense.non_ascii_share).toBeGreaterThan(0);
    expect(u.dense.math_symbols).toBeGreaterThan(0);
  });

  it("reuses the vector passed in and grows it for long prompts", () => {
    // Arrange
    const out = createFeatureVector(4);
    const long = "the quick brown fox jumps over the lazy dog ".repeat(500);

    // Act
    const v = extractFeatures(long, config, out);
    const first = v.length;
    const again = extractFeatures(long, config, out);

    // Assert
    expect(v).toBe(out);
    expect(first).toBeGreaterThan(4000);
    expect(again.length).toBe(first);
  });

  it("is deterministic", () => {
    // Act
    const a = extractFeatures(gsmPrompt, config);
    const snapshot = { indices: Array.from(a.indices.subarray(0, a.length)), values: Array.from(a.values.subarray(0, a.length)) };
    const b = extractFeatures(gsmPrompt, config);

    // Assert
    expect(Array.from(b.indices.subarray(0, b.length))).toEqual(snapshot.indices);
    expect(Array.from(b.values.subarray(0, b.length))).toEqual(snapshot.values);
  });
});

describe("open-chat features (version 2)", () => {
  const examples: Record<(typeof TASK_TYPES)[number], string[]> = {
    code: [
      "Write a Python function that reverses a linked list.",
      "Why does this JavaScript throw an exception? ```const x = {a: 1}; x.b.c;```",
    ],
    math: ["Solve for x: 3x + 5 = 20.", "What is the probability of rolling two sixes with 2 dice?"],
    rewriting: [
      "Rewrite this paragraph in a more formal tone: hey guys, the meeting got moved to friday.",
      "Proofread and correct the grammar of my cover note.",
    ],
    extraction: [
      "Extract all the dates and names mentioned in the following text: John met Mary on 3 May.",
      "Classify the sentiment of each review as positive or negative.",
    ],
    creative: ["Write a short poem about the sea.", "Tell me a story about a dragon who is afraid of fire."],
    reasoning: ["Explain why the sky is blue.", "Compare the strategy of both armies and justify which was sounder."],
    advice: ["What should I do to sleep better? Any tips?", "Can you recommend some ideas for a birthday present?"],
  };

  for (const type of TASK_TYPES) {
    it(`detects the ${type} task type`, () => {
      for (const prompt of examples[type]) {
        // Act / Assert
        expect(taskTypeOf(prompt), prompt).toBe(type);
        expect(view(extractFeatures(prompt, config)).dense[`task_${type}`], prompt).toBe(1);
      }
    });
  }

  it("sets at most one task slot, none for small talk, and reads the last user message of a conversation", () => {
    // Act
    const hi = view(extractFeatures("hi there", config));
    const chat = taskTypeOf([
      { role: "user", content: "Write a short poem about the sea." },
      { role: "assistant", content: "Waves..." },
      { role: "user", content: "Now translate it into French and fix the grammar." },
    ]);
    const mixed = view(extractFeatures("Write a Python function and explain why it works, with tips.", config));

    // Assert
    expect(taskTypeOf("hi there")).toBe("none");
    expect(Object.keys(hi.dense).filter((k) => k.startsWith("task_"))).toEqual([]);
    expect(chat).toBe("rewriting");
    expect(Object.keys(mixed.dense).filter((k) => k.startsWith("task_"))).toHaveLength(1);
  });

  it("counts constraints by kind and the answer length asked for", () => {
    // Arrange
    const constrained =
      "Write a 500-word essay on climate change in markdown with exactly three headings; do not use bullet points.";
    const plain = "Write an essay on climate change.";

    // Act
    const c = view(extractFeatures(constrained, config)).dense;
    const p = view(extractFeatures(plain, config)).dense;
    const short = view(extractFeatures("Answer in two sentences: what is DNS?", config)).dense;

    // Assert: content ("exactly", "do not"), format ("markdown", "headings", "bullet"), length ("500-word")
    expect(c.constraints_content).toBeCloseTo(Math.log1p(2) / 2, 12);
    expect(c.constraints_format).toBeCloseTo(Math.log1p(3) / 2, 12);
    expect(c.constraints_length).toBeCloseTo(Math.log1p(1) / 2, 12);
    expect(c.constraint_kinds).toBe(1);
    expect(c.log_requested_words).toBeCloseTo(Math.log1p(500) / 8, 12);
    expect(c.output_long!).toBeGreaterThan(p.output_long!); // "essay" in both, 500 words only in one
    expect(p.constraint_kinds).toBeUndefined();
    expect(short.log_requested_words).toBeCloseTo(Math.log1p(40) / 8, 12); // two sentences ~ 40 words
    expect(short.output_short).toBeGreaterThan(0);
    expect(short.output_long).toBeUndefined();
  });

  it("tells English from other languages and scripts", () => {
    // Act
    const en = view(extractFeatures("What is the best way to learn a new language?", config)).dense;
    const fr = view(extractFeatures("Quelle est la meilleure façon d'apprendre une langue?", config)).dense;
    const ru = view(extractFeatures("Как лучше всего выучить новый язык?", config)).dense;
    const ja = view(extractFeatures("新しい言語を学ぶ最良の方法は何ですか", config)).dense;

    // Assert
    expect(en.english_share).toBeGreaterThan(0.5);
    expect(fr.english_share ?? 0).toBeLessThan(0.5);
    expect(ru.script_other).toBeGreaterThan(1);
    expect(ru.script_cjk).toBeUndefined();
    expect(ja.script_cjk).toBeGreaterThan(1);
  });

  it("separates the length of a math word problem from the length of an open instruction", () => {
    // Act
    const math = view(extractFeatures(gsmPrompt, config)).dense;
    const open = view(extractFeatures("Plan a three-day trip to Rome for a family with two children.", config)).dense;
    const mc = view(extractFeatures("Who wrote Hamlet?\nA. Marlowe\nB. Shakespeare\nC. Jonson\nD. Kyd\nAnswer:", config)).dense;

    // Assert
    expect(math.log_chars_math).toBe(math.log_chars);
    expect(math.log_chars_open).toBeUndefined();
    expect(open.log_chars_open).toBe(open.log_chars);
    expect(mc.log_chars_open).toBeUndefined();
    expect(mc.log_chars_math).toBeUndefined();
  });
});
