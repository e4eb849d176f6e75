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

export interface ModelCatalog {
  models: readonly ModelSpec[];
  get(id: string): ModelSpec | undefined;
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
  return {
    models,
    settings,
    get: (id) => byId.get(id),
    defaultOf: (tier) => defaults[tier],
    fallbackFor: (model) => defaults[model.tier === "slm" ? "llm" : "slm"],
    isOffline: (tier) => !settings[tier].baseURL,
  };
}
