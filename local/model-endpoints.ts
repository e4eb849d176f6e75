import type { EndpointSettings, ModelSettings } from "../core/models/catalog";

/** Where an endpoint is, for a start-up banner: scheme, host and path only (never credentials, query or key). */
function where(endpoint: EndpointSettings): string {
  try {
    const url = new URL(endpoint.baseURL!);
    return `${url.protocol}//${url.host}${url.pathname.replace(/\/$/, "")}`;
  } catch {
    return "(unreadable URL)";
  }
}

/**
 * The `Models` lines of `npm start`'s banner: for each tier, the endpoint and default model that answer
 * it, or that the offline responder does (and which setting would change that). A user who forgot to
 * export a variable sees it before the first chat answers "[offline responder]".
 */
export function modelEndpointLines(models: ModelSettings): string[] {
  const tiers = [
    { name: "SLM", endpoint: models.slm, model: models.defaultSlm, setting: "AGENTORG_SLM_BASE_URL" },
    { name: "LLM", endpoint: models.llm, model: models.defaultLlm, setting: "AGENTORG_LLM_BASE_URL or OPENAI_API_KEY" },
  ];
  if (tiers.every((t) => !t.endpoint.baseURL)) {
    return ["  Models        no endpoint configured: the offline responder answers every query", "                (set AGENTORG_SLM_BASE_URL, AGENTORG_LLM_BASE_URL or OPENAI_API_KEY; see Settings in the README)"];
  }
  return tiers.map(({ name, endpoint, model, setting }, i) => {
    const label = i === 0 ? "  Models        " : "                ";
    return endpoint.baseURL
      ? `${label}${name}  ${model} at ${where(endpoint)}${endpoint.apiKey || endpoint.apiKeyParameter ? " (with an API key)" : ""}`
      : `${label}${name}  offline responder (no endpoint: set ${setting})`;
  });
}
