import type { Tier } from "../routing/policy";

/** A model the platform can call. Prices in USD per million tokens (list prices, documented in the README). */
export interface ModelSpec {
  /** Our id, used in requests (`model: "llama-3.2-3b"`) and records. */
  id: string;
  name: string;
  tier: Tier;
  /** The model name the endpoint knows (`llama3.2:3b` for Ollama, `gpt-4o` for OpenAI). */
  upstream: string;
  inputUsdPerMTok: number;
  outputUsdPerMTok: number;
  contextWindow: number;
}

/**
 * Default catalog. SLMs are served by any OpenAI-compatible server (Ollama, vLLM, llama.cpp); their
 * prices are typical hosted prices for models of that size, so savings stay meaningful when they run on
 * your own hardware. LLMs are OpenAI's GPT-4-class models.
 */
export const DEFAULT_MODELS: readonly ModelSpec[] = [
  { id: "llama-3.2-3b", name: "Llama 3.2 3B Instruct", tier: "slm", upstream: "llama3.2:3b", inputUsdPerMTok: 0.06, outputUsdPerMTok: 0.06, contextWindow: 131_072 },
  { id: "phi-3.5-mini", name: "Phi-3.5-mini Instruct", tier: "slm", upstream: "phi3.5", inputUsdPerMTok: 0.1, outputUsdPerMTok: 0.1, contextWindow: 131_072 },
  { id: "gpt-4o", name: "GPT-4o", tier: "llm", upstream: "gpt-4o", inputUsdPerMTok: 2.5, outputUsdPerMTok: 10, contextWindow: 128_000 },
  { id: "gpt-4.1", name: "GPT-4.1", tier: "llm", upstream: "gpt-4.1", inputUsdPerMTok: 2, outputUsdPerMTok: 8, contextWindow: 1_047_576 },
];

/** Where a tier's models are served. No base URL: the offline responder answers for that tier. */
export interface EndpointSettings {
  baseURL?: string;
  apiKey?: string;
  /** Where the key is kept instead (an SSM SecureString name, in AWS); read on first use. */
  apiKeyParameter?: string;
}

export interface ModelSettings {
  slm: EndpointSettings;
  llm: EndpointSettings;
  /** Default model of each tier (the router's choice, and the fallback target). */
  defaultSlm: string;
  defaultLlm: string;
  timeoutMs: number;
  /** Retries by the openai SDK per attempt (429/5xx/connection errors), before falling back. */
  maxRetries: number;
  /** Upper bound on output tokens when a request sets none: bounds the budget reservation. */
  defaultMaxTokens: number;
}

/**
 * Common model names of OpenAI's API and of open-model hubs, and the tier each stands for: a client
 * written for OpenAI (or LiteLLM, OpenRouter) sends these, and gets the tier's default model of our
 * catalog. A name that is also a catalog id (`gpt-4o`, `gpt-4.1` in the default catalog) pins that model.
 * "mini", "nano" and 3.5 models are the small tier; the rest the large one.
 */
export const TIER_ALIASES: Readonly<Record<string, Tier>> = {
  "gpt-4o-mini": "slm",
  "gpt-4.1-mini": "slm",
  "gpt-4.1-nano": "slm",
  "gpt-5-mini": "slm",
  "gpt-5-nano": "slm",
  "gpt-3.5-turbo": "slm",
  "gpt-3.5-turbo-16k": "slm",
  "gpt-4": "llm",
  "gpt-4-32k": "llm",
  "gpt-4-turbo": "llm",
  "gpt-4-turbo-preview": "llm",
  "gpt-4o": "llm",
  "chatgpt-4o-latest": "llm",
  "gpt-4.1": "llm",
  "gpt-5": "llm",
};

/** What a request's `model` names: routing by complexity, or one model of the catalog. */
export type ResolvedModel = { kind: "auto" } | { kind: "model"; model: ModelSpec; /** Set when the name was an alias of the model. */ alias?: string };

/**
 * Whether a key restricted to `allowed` names may request `name`: they are compared by what they
 * resolve to, so allowing `gpt-4o-mini` allows the catalog model it is served by under any of its
 * names; `auto` (routing) must be allowed by name.
 */
export function allowsModel(catalog: ModelCatalog, allowed: readonly string[], name: string): boolean {
  const wanted = catalog.resolve(name);
  if (!wanted) return false;
  return allowed.some((entry) => {
    const granted = catalog.resolve(entry);
    if (!granted) return false;
    return granted.kind === "auto" ? wanted.kind === "auto" : wanted.kind === "model" && granted.model.id === wanted.model.id;
  });
}

/**
 * A name reduced to what identifies a model: lower case, without a provider prefix (`openai/`,
 * `meta-llama/`), a snapshot date (`-2024-08-06`, `-0613`) or an `-instruct`/`-chat` suffix.
 */
function normalized(name: string): string[] {
  const bare = name.trim().toLowerCase().split("/").at(-1) ?? "";
  const undated = bare.replace(/-(\d{4}-\d{2}-\d{2}|0\d{3}|1\d{3})$/, "");
  const plain = undated.replace(/-(instruct|chat|it)$/, "");
  return [...new Set([bare, undated, plain])];
}

export interface ModelCatalog {
  models: readonly ModelSpec[];
  get(id: string): ModelSpec | undefined;
  /**
   * A request's `model`: `auto`, a catalog id or upstream name, or a common alias (TIER_ALIASES),
   * each also with a provider prefix or snapshot date. Undefined when it names none of them.
   */
  resolve(name: string): ResolvedModel | undefined;
  /** Every alias accepted now, with the catalog model it maps onto. */
  aliases(): { alias: string; model: ModelSpec }[];
  defaultOf(tier: Tier): ModelSpec;
  /** The model of the other tier a failed call falls back to. */
  fallbackFor(model: ModelSpec): ModelSpec;
  /** True when the tier has no endpoint: answers come from the offline responder. */
  isOffline(tier: Tier): boolean;
  settings: ModelSettings;
}

export function createCatalog(settings: ModelSettings, models: readonly ModelSpec[] = DEFAULT_MODELS): ModelCatalog {
  const byId = new Map(models.map((m) => [m.id, m]));
  const pick = (id: string, tier: Tier) => {
    const model = byId.get(id);
    if (!model || model.tier !== tier) throw new Error(`Default ${tier} model '${id}' is not a ${tier} model of the catalog`);
    return model;
  };
  const defaults = { slm: pick(settings.defaultSlm, "slm"), llm: pick(settings.defaultLlm, "llm") };
  const byName = new Map<string, ModelSpec>();
  for (const m of models) for (const name of [m.upstream.toLowerCase(), m.id.toLowerCase()]) byName.set(name, m);
  const aliasOf = (name: string): ModelSpec | undefined => {
    const tier = TIER_ALIASES[name];
    return tier ? defaults[tier] : undefined;
  };
  return {
    models,
    settings,
    get: (id) => byId.get(id),
    resolve(name) {
      const names = normalized(name);
      if (names.includes("auto")) return { kind: "auto" };
      for (const n of names) {
        const model = byName.get(n);
        if (model) return { kind: "model", model, ...(model.id === name ? {} : { alias: name }) };
      }
      for (const n of names) {
        const model = aliasOf(n);
        if (model) return { kind: "model", model, alias: name };
      }
      return undefined;
    },
    aliases: () =>
      Object.keys(TIER_ALIASES)
        .filter((alias) => !byName.has(alias))
        .map((alias) => ({ alias, model: aliasOf(alias)! })),
    defaultOf: (tier) => defaults[tier],
    fallbackFor: (model) => defaults[model.tier === "slm" ? "llm" : "slm"],
    isOffline: (tier) => !settings[tier].baseURL,
  };
}
