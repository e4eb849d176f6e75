/**
 * Feature extraction for the SLM/LLM complexity classifier.
 *
 * One pass over the characters of the query: no regular expressions, no `toLowerCase()` copy, no
 * substring allocation, so a decision costs microseconds. The output is a sparse vector whose first
 * `DENSE_FEATURES.length` slots are hand-made features (length, numbers, operators, code and
 * multiple-choice markers, keyword families, task type, constraints, requested output length,
 * language, conversation context) and whose remaining slots are
 * hashed word unigrams and bigrams ("feature hashing": a word's bucket is its hash modulo the bucket
 * count, so no vocabulary has to be stored).
 *
 * Changing anything here that moves a feature value changes what the trained weights mean: bump
 * `FEATURE_VERSION` and retrain (`npm run route:train`); the classifier refuses weights of another
 * version.
 */

/** Version of the extraction code; stored in weights.json and checked when weights are loaded. */
export const FEATURE_VERSION = "routing-features/2";

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
  // Version 2: features that carry over to open-ended chat (see README "Features").
  "kw_story",
  "kw_extract",
  "kw_rewrite",
  "kw_advice",
  "kw_tech",
  "task_code",
  "task_math",
  "task_reasoning",
  "task_creative",
  "task_extraction",
  "task_rewriting",
  "task_advice",
  "constraints_content",
  "constraints_format",
  "constraints_length",
  "constraint_kinds",
  "output_long",
  "output_short",
  "log_requested_words",
  "english_share",
  "script_cjk",
  "script_other",
  "log_chars_math",
  "log_chars_open",
] as const;

/**
 * Task types the extraction recognises; exactly one `task_*` slot is 1 (or none, for a prompt with no
 * task signal). Order is the tie-break priority: the first type with the highest evidence wins.
 */
export const TASK_TYPES = ["code", "math", "rewriting", "extraction", "creative", "reasoning", "advice"] as const;

/** A recognised task type, or "none". */
export type TaskType = (typeof TASK_TYPES)[number] | "none";

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
const F_KW_NEW_FIRST = 34; // kw_story .. kw_tech: families 10..14
const F_TASK: Readonly<Record<(typeof TASK_TYPES)[number], number>> = {
  code: 39,
  math: 40,
  reasoning: 41,
  creative: 42,
  extraction: 43,
  rewriting: 44,
  advice: 45,
};
const F_CON_CONTENT = 46;
const F_CON_FORMAT = 47;
const F_CON_LENGTH = 48;
const F_CON_KINDS = 49;
const F_OUT_LONG = 50;
const F_OUT_SHORT = 51;
const F_REQUESTED_WORDS = 52;
const F_ENGLISH = 53;
const F_CJK = 54;
const F_OTHER_SCRIPT = 55;
const F_LOG_CHARS_MATH = 56;
const F_LOG_CHARS_OPEN = 57;

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
  // creative / rewriting (version 1 family, kept as is)
  ["write", "poem", "story", "email", "summarize", "summary", "rewrite", "translate", "draft",
    "paraphrase", "tweet", "slogan", "letter"],
  // 10 creative writing (task type)
  ["poem", "story", "stories", "song", "lyrics", "haiku", "novel", "fiction", "fictional", "character",
    "characters", "plot", "rhyme", "rhyming", "verse", "screenplay", "script", "dialogue", "imagine",
    "creative", "sonnet", "limerick", "fantasy", "narrative", "tale", "joke", "jokes", "rap", "scene",
    "email", "letter", "speech", "slogan", "tweet", "toast", "invitation", "caption", "bio", "essay"],
  // 11 extraction / classification (task type)
  ["extract", "identify", "classify", "categorize", "categorise", "list", "parse", "label", "tag",
    "mentioned", "entities", "keywords", "sentiment", "detect", "find", "names", "dates", "following"],
  // 12 rewriting / editing / translation (task type)
  ["rewrite", "rephrase", "paraphrase", "edit", "proofread", "improve", "shorten", "simplify", "polish",
    "revise", "reword", "correct", "grammar", "translate", "translation", "formal", "informal", "tone",
    "summarize", "summarise", "summary", "convert", "fix"],
  // 13 advice / recommendation (task type)
  ["should", "advice", "advise", "recommend", "recommendation", "recommendations", "suggest",
    "suggestions", "tips", "tip", "ideas", "help", "plan", "guide", "options", "best", "ways"],
  // 14 technology domain (Arena-Hard-style prompts are mostly this)
  ["linux", "server", "docker", "database", "network", "kubernetes", "aws", "react", "css", "html",
    "git", "script", "bash", "shell", "framework", "library", "deploy", "cloud", "excel", "vba", "rust",
    "cpp", "golang", "swift", "kotlin", "unity", "android", "ios", "browser", "model", "pytorch",
    "tensorflow", "neural", "dataset", "pandas", "numpy", "simulation", "implement", "implementation"],
  // 15 content constraints
  ["must", "exactly", "only", "without", "avoid", "include", "including", "ensure", "mention", "limit",
    "maximum", "minimum", "strictly", "required", "requirements", "constraints", "dont", "cannot",
    "exclude", "each", "every"],
  // 16 format constraints
  ["json", "table", "bullet", "bullets", "markdown", "csv", "yaml", "format", "formatted", "numbered",
    "headings", "heading", "columns", "xml", "outline", "template", "structured", "bold", "italic"],
  // 17 long output asked for
  ["essay", "detailed", "comprehensive", "article", "report", "thorough", "elaborate", "extensive",
    "depth", "blog", "paper", "chapter", "tutorial", "complete", "full", "thesis", "proposal"],
  // 18 short output asked for
  ["brief", "briefly", "short", "concise", "concisely", "tldr", "quick", "quickly", "simply", "oneliner",
    "summarize", "summarise"],
  // 19 English function words: their share tells English from other languages in Latin script
  ["the", "and", "of", "to", "is", "in", "that", "for", "it", "with", "as", "on", "are", "this", "be",
    "what", "how", "can", "you", "a", "an", "i", "my", "me", "do", "does", "from", "by", "or", "at"],
];

const FAMILY_STORY = 10;
const FAMILY_EXTRACT = 11;
const FAMILY_REWRITE = 12;
const FAMILY_ADVICE = 13;
const FAMILY_CON_CONTENT = 15;
const FAMILY_CON_FORMAT = 16;
const FAMILY_OUT_LONG = 17;
const FAMILY_OUT_SHORT = 18;
const FAMILY_ENGLISH = 19;
const FAMILY_MATH = 0;
const FAMILY_CODE = 1;
const FAMILY_REASONING = 6;

/**
 * Length units after a number ("300 words", "3 paragraphs", "a 1000-word essay"), in words per unit:
 * the product estimates the answer length the prompt asks for.
 */
const LENGTH_UNITS: readonly (readonly [string, number])[] = [
  ["word", 1], ["words", 1], ["characters", 0.2], ["line", 10], ["lines", 10], ["sentence", 20],
  ["sentences", 20], ["bullet", 15], ["bullets", 15], ["points", 15], ["paragraph", 100],
  ["paragraphs", 100], ["page", 400], ["pages", 400], ["tweets", 40], ["examples", 40], ["ideas", 30],
  ["steps", 30], ["questions", 25], ["items", 20],
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

// Word hash -> bit mask of its families: a word may count in several ("function" is math and code,
// "summarize" is creative and rewriting). 20 families fit a 31-bit mask.
const KEYWORD_FAMILY_OF = new Map<number, number>();
KEYWORD_FAMILIES.forEach((words, family) => {
  for (const word of words) {
    const h = hashWord(word);
    KEYWORD_FAMILY_OF.set(h, (KEYWORD_FAMILY_OF.get(h) ?? 0) | (1 << family));
  }
});
const FAMILY_COUNT = KEYWORD_FAMILIES.length;

// Spelled-out counts before a length unit ("three paragraphs", "a paragraph").
const NUMBER_WORDS: readonly (readonly [string, number])[] = [
  ["a", 1], ["an", 1], ["one", 1], ["two", 2], ["three", 3], ["four", 4], ["five", 5], ["six", 6],
  ["seven", 7], ["eight", 8], ["nine", 9], ["ten", 10], ["twenty", 20], ["fifty", 50], ["hundred", 100],
];

// One lookup per word on the hot path: the same map also carries, above the family bits, the index
// + 1 of a number word (bits 20-23) and of a length unit (bits 24-28).
const FAMILY_BITS = (1 << 20) - 1;
NUMBER_WORDS.forEach(([word], i) => {
  const h = hashWord(word);
  KEYWORD_FAMILY_OF.set(h, (KEYWORD_FAMILY_OF.get(h) ?? 0) | ((i + 1) << 20));
});
LENGTH_UNITS.forEach(([word], i) => {
  const h = hashWord(word);
  KEYWORD_FAMILY_OF.set(h, (KEYWORD_FAMILY_OF.get(h) ?? 0) | ((i + 1) << 24));
});
const NUMBER_WORD_VALUES = Float64Array.from([0, ...NUMBER_WORDS.map(([, n]) => n)]);
const LENGTH_UNIT_WORDS = Float64Array.from([0, ...LENGTH_UNITS.map(([, perUnit]) => perUnit)]);

// Two-word constraints: "do not", "don't" (the apostrophe splits it into "don" + "t"), "at least", "at most".
const H_DO = hashWord("do");
const H_NOT = hashWord("not");
const H_DON = hashWord("don");
const H_T = hashWord("t");
const H_AT = hashWord("at");
const H_LEAST = hashWord("least");
const H_MOST = hashWord("most");
const H_NO = hashWord("no");
const H_MORE = hashWord("more");
const H_LESS = hashWord("less");

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
const family = new Float64Array(FAMILY_COUNT);
// Evidence per task type, in TASK_TYPES order.
const taskEvidence = new Float64Array(TASK_TYPES.length);

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
  let cjk = 0;
  let otherScript = 0;
  let leadMask = 0; // families of the first three words (an instruction's verb usually comes first)
  let conContentPairs = 0;
  let lengthSpecs = 0;
  let requestedWords = 0;
  let numValue = 0;
  let pendingCount = 0; // the count the previous token gave ("300" or "three"), 0 if none
  family.fill(0);

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
        numValue = 0;
        numDecimal = false;
        h = FNV_OFFSET;
        len = 0;
      }
      // Shape counts integer digits only: "3.5" and "7.25" are the same kind of number.
      if (kind === 2) {
        if (!numDecimal) {
          numDigits++;
          if (numValue < 1e6) numValue = numValue * 10 + (c - 48);
        }
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
      if (c >= 128) {
        nonAscii++;
        if ((c >= 0x3040 && c <= 0x30ff) || (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xac00 && c <= 0xd7af)) cjk++;
        else if (c >= 0x370 && c < 0x2000) otherScript++; // Greek, Cyrillic, Hebrew, Arabic, Indic, Thai...
      }
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
        const entry = KEYWORD_FAMILY_OF.get(th) ?? 0;
        const mask = entry & FAMILY_BITS;
        if (mask !== 0) {
          for (let f = 0; f < FAMILY_COUNT; f++) if ((mask & (1 << f)) !== 0) family[f]! += 1;
          if (words <= 3) leadMask |= mask;
        }
        if ((th === H_NOT && prev === H_DO) || (th === H_T && prev === H_DON) || ((th === H_LEAST || th === H_MOST) && prev === H_AT)) {
          conContentPairs++;
        } else if ((th === H_MORE || th === H_LESS) && prev === H_NO) conContentPairs++;
        const unit = entry >>> 24;
        if (unit !== 0 && pendingCount > 0) {
          lengthSpecs++;
          requestedWords += pendingCount * LENGTH_UNIT_WORDS[unit]!;
          pendingCount = 0;
        } else pendingCount = NUMBER_WORD_VALUES[(entry >>> 20) & 15]!;
      } else {
        numbers++;
        if (numDigits >= 4) bigNumbers++;
        if (numDecimal) decimals++;
        th = NUMBER_HASHES[Math.min(numDigits, 4) + (numDecimal ? 5 : 0)]!;
        pendingCount = numValue;
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
  for (let f = 0; f < 10; f++) dense[F_KW_FIRST + f] = Math.log1p(family[f]!) / 2;
  for (let f = 10; f < 15; f++) dense[F_KW_NEW_FIRST + f - 10] = Math.log1p(family[f]!) / 2;

  // Task type: the type with the most evidence (keywords, a leading instruction verb, structure) wins.
  const lead = (f: number): number => ((leadMask & (1 << f)) !== 0 ? 1 : 0);
  taskEvidence[0] = family[FAMILY_CODE]! + lead(FAMILY_CODE) + Math.min(code, 8) / 2;
  taskEvidence[1] = family[FAMILY_MATH]! + lead(FAMILY_MATH) + Math.min(mathOps, 6) / 3 + (numbers >= 2 ? 1 : 0) + (latex > 0 ? 1 : 0);
  taskEvidence[2] = family[FAMILY_REWRITE]! + lead(FAMILY_REWRITE);
  taskEvidence[3] = family[FAMILY_EXTRACT]! + lead(FAMILY_EXTRACT);
  taskEvidence[4] = family[FAMILY_STORY]! + lead(FAMILY_STORY);
  taskEvidence[5] = family[FAMILY_REASONING]! + lead(FAMILY_REASONING);
  taskEvidence[6] = family[FAMILY_ADVICE]! + lead(FAMILY_ADVICE);
  let task = -1;
  let best = 1 - 1e-9; // at least one keyword's worth of evidence
  for (let t = 0; t < TASK_TYPES.length; t++) {
    if (taskEvidence[t]! > best) {
      best = taskEvidence[t]!;
      task = t;
    }
  }
  if (task >= 0) dense[F_TASK[TASK_TYPES[task]!]] = 1;

  // Constraints by kind, and the answer length the prompt asks for.
  const content = family[FAMILY_CON_CONTENT]! + conContentPairs;
  const format = family[FAMILY_CON_FORMAT]!;
  dense[F_CON_CONTENT] = Math.log1p(content) / 2;
  dense[F_CON_FORMAT] = Math.log1p(format) / 2;
  dense[F_CON_LENGTH] = Math.log1p(lengthSpecs) / 2;
  dense[F_CON_KINDS] = ((content > 0 ? 1 : 0) + (format > 0 ? 1 : 0) + (lengthSpecs > 0 ? 1 : 0)) / 3;
  dense[F_OUT_LONG] = Math.log1p(family[FAMILY_OUT_LONG]! + (requestedWords >= 300 ? 1 : 0)) / 2;
  dense[F_OUT_SHORT] = Math.log1p(family[FAMILY_OUT_SHORT]! + (requestedWords > 0 && requestedWords <= 60 ? 1 : 0)) / 2;
  dense[F_REQUESTED_WORDS] = Math.log1p(requestedWords) / 8;

  // Language: English function-word share (low for other Latin-script languages) and script shares.
  dense[F_ENGLISH] = words > 0 ? Math.min((family[FAMILY_ENGLISH]! / words) * 3, 1.5) : 0;
  dense[F_CJK] = (cjk / chars) * 3;
  dense[F_OTHER_SCRIPT] = (otherScript / chars) * 3;

  // Length means different things per kind of prompt: a longer word problem has more steps (harder
  // for a small model), a longer open instruction often carries the material to work on (easier).
  // Separate slots let the linear model weigh them apart.
  if (task === 1) dense[F_LOG_CHARS_MATH] = dense[F_LOG_CHARS]!;
  else if (choices < 2) dense[F_LOG_CHARS_OPEN] = dense[F_LOG_CHARS]!;
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

/**
 * The task type the extraction recognises in a query or conversation (its `task_*` slot), for tests
 * and diagnostics; "none" when no type has enough evidence.
 */
export function taskTypeOf(input: RoutingInput): TaskType {
  const v = extractFeatures(input, { buckets: 1, bigrams: false });
  for (let k = 0; k < v.length; k++) {
    const index = v.indices[k]!;
    if (index >= F_TASK.code && index <= F_TASK.advice && v.values[k] === 1) {
      const type = TASK_TYPES.find((t) => F_TASK[t] === index);
      if (type !== undefined) return type;
    }
  }
  return "none";
}
