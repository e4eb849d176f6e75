/**
 * Feature extraction for the SLM/LLM complexity classifier.
 *
 * One pass over the characters of the query: no regular expressions, no `toLowerCase()` copy, no
 * substring allocation, so a decision costs microseconds. The output is a sparse vector whose first
 * `DENSE_FEATURES.length` slots are hand-made features (length, numbers, operators, code and
 * multiple-choice markers, keyword families, conversation context) and whose remaining slots are
 * hashed word unigrams and bigrams ("feature hashing": a word's bucket is its hash modulo the bucket
 * count, so no vocabulary has to be stored).
 *
 * Changing anything here that moves a feature value changes what the trained weights mean: bump
 * `FEATURE_VERSION` and retrain (`npm run route:train`); the classifier refuses weights of another
 * version.
 */

/** Version of the extraction code; stored in weights.json and checked when weights are loaded. */
export const FEATURE_VERSION = "routing-features/1";

/** A chat message; only `user` messages are scored, the others only add context features. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool" | (string & {});
  content: string;
}

/** What the classifier scores: a bare query or a whole conversation. */
export type RoutingInput = string | readonly ChatMessage[];

/** Extraction parameters that the weights were trained with (kept in weights.json). */
export interface FeatureConfig {
  /** Number of hash buckets; a power of two so that `hash & (buckets - 1)` is the modulo. */
  buckets: number;
  /** Also hash adjacent word pairs (catches "how many", "not true", "which of"). */
  bigrams: boolean;
}

/** Names of the dense features, in slot order (stored in weights.json for readability). */
export const DENSE_FEATURES = [
  "log_chars",
  "log_words",
  "log_numbers",
  "log_big_numbers",
  "decimal_or_fraction",
  "digit_share",
  "log_math_ops",
  "math_symbols",
  "log_questions",
  "log_sentences",
  "log_newlines",
  "upper_share",
  "avg_word_len",
  "long_word_share",
  "log_money_percent",
  "code_markers",
  "latex_markers",
  "non_ascii_share",
  "multiple_choice",
  "log_stem_chars",
  "choice_digit_share",
  "kw_math",
  "kw_code",
  "kw_legal",
  "kw_medical",
  "kw_finance",
  "kw_science",
  "kw_reasoning",
  "kw_negation",
  "kw_smalltalk",
  "kw_creative",
  "log_turns",
  "log_context_chars",
  "context_has_code",
] as const;

/** Number of dense slots; hashed buckets start at this index. */
export const DENSE_COUNT = DENSE_FEATURES.length;

// Dense slot indices, named once so the extraction below reads as prose.
const F_LOG_CHARS = 0;
const F_LOG_WORDS = 1;
const F_LOG_NUMBERS = 2;
const F_LOG_BIG_NUMBERS = 3;
const F_DECIMAL = 4;
const F_DIGIT_SHARE = 5;
const F_MATH_OPS = 6;
const F_MATH_SYMBOLS = 7;
const F_QUESTIONS = 8;
const F_SENTENCES = 9;
const F_NEWLINES = 10;
const F_UPPER_SHARE = 11;
const F_AVG_WORD_LEN = 12;
const F_LONG_WORD_SHARE = 13;
const F_MONEY_PERCENT = 14;
const F_CODE = 15;
const F_LATEX = 16;
const F_NON_ASCII = 17;
const F_MULTIPLE_CHOICE = 18;
const F_STEM_CHARS = 19;
const F_CHOICE_DIGITS = 20;
const F_KW_FIRST = 21;
const F_LOG_TURNS = 31;
const F_LOG_CONTEXT = 32;
const F_CONTEXT_CODE = 33;

/**
 * Keyword families. Hashed unigrams learn benchmark vocabulary on their own; these families give the
 * model a handful of dense, well-populated signals that generalize to real chat traffic (a legal or
 * medical question looks like one even when its exact words never occurred in training).
 */
const KEYWORD_FAMILIES: readonly (readonly string[])[] = [
  // math
  ["calculate", "compute", "solve", "equation", "integral", "derivative", "probability", "sum", "product",
    "percent", "ratio", "average", "total", "remaining", "twice", "half", "triple", "fraction", "matrix",
    "polynomial", "theorem", "prime", "factor", "function", "limit", "vector", "mod", "modulo", "root"],
  // code
  ["code", "python", "javascript", "typescript", "java", "function", "class", "def", "return", "bug",
    "error", "compile", "algorithm", "complexity", "sql", "query", "api", "regex", "array", "pointer",
    "recursion", "runtime", "stack", "exception", "debug", "refactor"],
  // legal
  ["law", "legal", "court", "plaintiff", "defendant", "contract", "statute", "liability", "tort",
    "constitutional", "jurisdiction", "evidence", "testimony", "negligence", "judge", "jury", "appeal",
    "precedent", "compliance", "regulation", "clause", "damages", "breach"],
  // medical
  ["patient", "diagnosis", "symptoms", "treatment", "disease", "clinical", "dose", "drug", "mg",
    "syndrome", "infection", "blood", "cells", "gene", "genetic", "physician", "therapy", "chronic",
    "acute", "cardiac", "renal", "tumor", "cancer", "medication", "examination"],
  // finance
  ["interest", "loan", "tax", "revenue", "profit", "investment", "portfolio", "stock", "bond", "equity",
    "asset", "liability", "depreciation", "inflation", "gdp", "market", "price", "cost", "dividend",
    "accounting", "audit", "balance", "cash", "budget", "fiscal", "monetary"],
  // science
  ["energy", "force", "mass", "velocity", "acceleration", "electron", "atom", "molecule", "reaction",
    "chemical", "temperature", "pressure", "quantum", "wave", "frequency", "voltage", "current",
    "organism", "species", "evolution", "enzyme", "protein", "dna", "gravity", "particle"],
  // reasoning / open-ended analysis
  ["explain", "why", "prove", "derive", "analyze", "analyse", "compare", "evaluate", "justify",
    "argue", "implications", "tradeoffs", "strategy", "design", "critique", "assess", "infer",
    "hypothesis", "consequence", "reasoning", "step", "morally", "ethical"],
  // negation / traps
  ["not", "except", "incorrect", "false", "least", "never", "neither", "nor", "unless", "cannot"],
  // small talk: the cheapest queries to serve well with a small model
  ["hi", "hello", "hey", "thanks", "thank", "please", "ok", "okay", "cool", "great", "bye", "morning",
    "joke", "weather"],
  // creative / rewriting
  ["write", "poem", "story", "email", "summarize", "summary", "rewrite", "translate", "draft",
    "paraphrase", "tweet", "slogan", "letter"],
];

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** 32-bit finalizer (MurmurHash3 fmix32): FNV's low bits alone are too regular for bucket masks. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over lowercase ASCII, the same hash the scanner computes incrementally. */
function hashWord(word: string): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
  return h >>> 0;
}

// Numbers are hashed by shape (digit count, decimal point), not value: "16 eggs" and "42 eggs" are
// the same problem for the router.
const NUMBER_HASHES: readonly number[] = Array.from({ length: 10 }, (_, i) => hashWord(`#num${i}`));

const KEYWORD_FAMILY_OF = new Map<number, number>();
KEYWORD_FAMILIES.forEach((words, family) => {
  for (const word of words) {
    // First family wins for words listed twice ("function", "liability").
    const h = hashWord(word);
    if (!KEYWORD_FAMILY_OF.has(h)) KEYWORD_FAMILY_OF.set(h, family);
  }
});

/**
 * A reusable sparse vector: `indices[i]` / `values[i]` for `i < length`. An index may repeat (a word
 * occurring twice); consumers add the values up, so repeats act as counts.
 */
export interface FeatureVector {
  indices: Int32Array;
  values: Float64Array;
  length: number;
}

/** Allocates an empty vector; pass it back to `extractFeatures` to avoid allocating per call. */
export function createFeatureVector(capacity = 1024): FeatureVector {
  return { indices: new Int32Array(capacity), values: new Float64Array(capacity), length: 0 };
}

function push(v: FeatureVector, index: number, value: number): void {
  if (v.length === v.indices.length) {
    const indices = new Int32Array(v.indices.length * 2);
    indices.set(v.indices);
    const values = new Float64Array(v.values.length * 2);
    values.set(v.values);
    v.indices = indices;
    v.values = values;
  }
  v.indices[v.length] = index;
  v.values[v.length] = value;
  v.length++;
}

/** Total feature dimension for a config: dense slots plus hash buckets. */
export function featureDimension(config: FeatureConfig): number {
  return DENSE_COUNT + config.buckets;
}

/** Splits a routing input into the text that is scored and the conversation around it. */
function focus(input: RoutingInput): { text: string; turns: number; contextChars: number; contextCode: boolean } {
  if (typeof input === "string") return { text: input, turns: 1, contextChars: 0, contextCode: false };
  // The last user message is what the model must answer; everything before it is context.
  let last = -1;
  for (let i = input.length - 1; i >= 0; i--) {
    if (input[i]?.role === "user") {
      last = i;
      break;
    }
  }
  if (last < 0) last = input.length - 1;
  let turns = 0;
  let contextChars = 0;
  let contextCode = false;
  for (let i = 0; i < input.length; i++) {
    const m = input[i];
    if (!m) continue;
    if (m.role === "user") turns++;
    if (i !== last) {
      contextChars += m.content.length;
      if (!contextCode && m.content.includes("```")) contextCode = true;
    }
  }
  return { text: input[last]?.content ?? "", turns: Math.max(turns, 1), contextChars, contextCode };
}

const dense = new Float64Array(DENSE_COUNT);

/**
 * Extracts the feature vector of a query or conversation into `out` (cleared first) and returns it.
 *
 * @param input a query string or `{ role, content }[]`; the last user message is scored
 * @param config the bucket count and bigram switch the weights were trained with
 * @param out optional vector to reuse (the hot path passes one to allocate nothing)
 */
export function extractFeatures(input: RoutingInput, config: FeatureConfig, out?: FeatureVector): FeatureVector {
  const v = out ?? createFeatureVector();
  v.length = 0;
  dense.fill(0);
  const { text, turns, contextChars, contextCode } = focus(input);
  const mask = config.buckets - 1;
  const n = text.length;

  let words = 0;
  let wordChars = 0;
  let longWords = 0;
  let numbers = 0;
  let bigNumbers = 0;
  let decimals = 0;
  let digits = 0;
  let mathOps = 0;
  let mathSymbols = 0;
  let questions = 0;
  let sentences = 0;
  let newlines = 0;
  let upper = 0;
  let moneyPercent = 0;
  let code = 0;
  let latex = 0;
  let nonAscii = 0;
  let choices = 0;
  let stemEnd = -1;
  let choiceDigits = 0;
  let choiceChars = 0;

  // Token state: kind 0 = none, 1 = word, 2 = number.
  let kind = 0;
  let h = FNV_OFFSET;
  let len = 0;
  let numDigits = 0;
  let numDecimal = false;
  let prev = 0; // hash of the previous token, 0 at the start
  let hashed = 0;
  const bucketBase = DENSE_COUNT;
  const bigrams = config.bigrams;

  // The loop runs one step past the end with a virtual space so the last token is closed by the same
  // inline code as every other one (a closure here would move the counters into a heap context).
  for (let i = 0; i <= n; i++) {
    let c = i < n ? text.charCodeAt(i) : 32;
    const inChoices = stemEnd >= 0;
    if (inChoices && i < n) choiceChars++;
    if (c >= 48 && c <= 57) {
      digits++;
      if (inChoices) choiceDigits++;
      if (kind === 0) {
        kind = 2;
        numDigits = 0;
        numDecimal = false;
        h = FNV_OFFSET;
        len = 0;
      }
      // Shape counts integer digits only: "3.5" and "7.25" are the same kind of number.
      if (kind === 2) {
        if (!numDecimal) numDigits++;
      } else {
        h = Math.imul(h ^ c, FNV_PRIME);
        len++;
      }
      continue;
    }
    if (kind === 2 && (c === 46 || c === 44 || c === 47)) {
      // "3.5", "80,000", "3/4" stay one number token; a trailing dot ends the sentence instead.
      const next = text.charCodeAt(i + 1);
      if (next >= 48 && next <= 57) {
        if (c !== 44) numDecimal = true;
        continue;
      }
    }
    const isUpper = c >= 65 && c <= 90;
    if (isUpper) {
      upper++;
      c += 32;
    }
    if ((c >= 97 && c <= 122) || c === 95 || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7 && c < 0x2000) || c >= 0x3040) {
      if (c >= 128) nonAscii++;
      if (kind === 2) {
        // "5th", "x2": a number glued to letters becomes a word.
        kind = 1;
        h = FNV_OFFSET;
        for (let k = 0; k < numDigits; k++) h = Math.imul(h ^ 48, FNV_PRIME);
        len = numDigits;
      } else if (kind === 0) {
        kind = 1;
        h = FNV_OFFSET;
        len = 0;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
      len++;
      continue;
    }
    if (kind !== 0) {
      let th: number;
      if (kind === 1) {
        th = h >>> 0;
        words++;
        wordChars += len;
        if (len >= 10) longWords++;
        const family = KEYWORD_FAMILY_OF.get(th);
        if (family !== undefined) dense[F_KW_FIRST + family]! += 1;
      } else {
        numbers++;
        if (numDigits >= 4) bigNumbers++;
        if (numDecimal) decimals++;
        th = NUMBER_HASHES[Math.min(numDigits, 4) + (numDecimal ? 5 : 0)]!;
      }
      push(v, bucketBase + (fmix32(th) & mask), 1);
      hashed++;
      if (bigrams && prev !== 0) {
        push(v, bucketBase + (fmix32(Math.imul(prev, FNV_PRIME) ^ th) & mask), 1);
        hashed++;
      }
      prev = th;
      kind = 0;
    }
    if (c >= 128) {
      nonAscii++;
      // Math operators block, ×, ÷, superscripts: notation a small model tends to fumble.
      if ((c >= 0x2200 && c <= 0x22ff) || c === 0xd7 || c === 0xf7 || c === 0xb2 || c === 0xb3 || (c >= 0x2070 && c <= 0x209f)) {
        mathSymbols++;
      }
      continue;
    }
    switch (c) {
      case 10: {
        newlines++;
        // "\nA." / "\nB)" opens a multiple-choice option; the stem ends at the first one.
        const letter = text.charCodeAt(i + 1);
        const mark = text.charCodeAt(i + 2);
        if (letter >= 65 && letter <= 72 && (mark === 46 || mark === 41)) {
          choices++;
          if (stemEnd < 0) stemEnd = i;
        }
        break;
      }
      case 63:
        questions++;
        sentences++;
        break;
      case 46:
      case 33:
        sentences++;
        break;
      case 43:
      case 45:
      case 42:
      case 47:
      case 61:
      case 60:
      case 62:
      case 94:
        mathOps++;
        if (c === 94) latex++;
        break;
      case 36:
      case 37:
        moneyPercent++;
        break;
      case 123:
      case 125:
      case 59:
      case 96:
        code++;
        break;
      case 92:
        latex++;
        break;
      default:
        break;
    }
  }

  const chars = Math.max(n, 1);
  dense[F_LOG_CHARS] = Math.log1p(n) / 8;
  dense[F_LOG_WORDS] = Math.log1p(words) / 6;
  dense[F_LOG_NUMBERS] = Math.log1p(numbers) / 3;
  dense[F_LOG_BIG_NUMBERS] = Math.log1p(bigNumbers) / 2;
  dense[F_DECIMAL] = decimals > 0 ? 1 : 0;
  dense[F_DIGIT_SHARE] = (digits / chars) * 4;
  dense[F_MATH_OPS] = Math.log1p(mathOps) / 3;
  dense[F_MATH_SYMBOLS] = Math.log1p(mathSymbols) / 2;
  dense[F_QUESTIONS] = Math.log1p(questions) / 2;
  dense[F_SENTENCES] = Math.log1p(sentences) / 3;
  dense[F_NEWLINES] = Math.log1p(newlines) / 3;
  dense[F_UPPER_SHARE] = (upper / chars) * 5;
  dense[F_AVG_WORD_LEN] = words > 0 ? wordChars / words / 6 : 0;
  dense[F_LONG_WORD_SHARE] = words > 0 ? (longWords / words) * 5 : 0;
  dense[F_MONEY_PERCENT] = Math.log1p(moneyPercent) / 2;
  dense[F_CODE] = Math.log1p(code) / 3;
  dense[F_LATEX] = Math.log1p(latex) / 2;
  dense[F_NON_ASCII] = (nonAscii / chars) * 5;
  dense[F_MULTIPLE_CHOICE] = choices >= 2 ? 1 : 0;
  dense[F_STEM_CHARS] = choices >= 2 ? Math.log1p(stemEnd) / 8 : 0;
  dense[F_CHOICE_DIGITS] = choices >= 2 && choiceChars > 0 ? (choiceDigits / choiceChars) * 3 : 0;
  for (let f = 0; f < KEYWORD_FAMILIES.length; f++) {
    const slot = F_KW_FIRST + f;
    dense[slot] = Math.log1p(dense[slot]!) / 2;
  }
  dense[F_LOG_TURNS] = Math.log(turns) / 2;
  dense[F_LOG_CONTEXT] = Math.log1p(contextChars) / 10;
  dense[F_CONTEXT_CODE] = contextCode ? 1 : 0;

  // Hashed counts are scaled by 1/sqrt(tokens) so a long prompt does not win on volume alone;
  // length has its own dense features.
  if (hashed > 0) {
    const scale = 1 / Math.sqrt(hashed);
    for (let i = 0; i < v.length; i++) v.values[i] = scale;
  }
  for (let f = 0; f < DENSE_COUNT; f++) {
    const x = dense[f]!;
    if (x !== 0) push(v, f, x);
  }

  return v;
}
