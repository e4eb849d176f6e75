import { createChatService } from "../../../core/chat/chat-service";
import { createRoutingSettingsStore } from "../../../core/db/metering.repository";
import type { EndpointSettings } from "../../../core/models/catalog";
import { createOfflineProvider } from "../../../core/models/offline-provider";
import type { ChatProvider } from "../../../core/models/provider";
import { classifier } from "../../../core/routing/classifier";
import { type Config, config } from "../config";
import { access } from "./access";
import { lazy } from "./lazy";
import { metering } from "./metering";
import { realtime } from "./realtime";
import { catalog } from "./routing";
import { table } from "./table";

/** Hybrid routing and metering of chat completions (the functions that call models). */
export const chat = lazy(() => {
  const { options } = table();
  const cfg = config();
  return createChatService({
    catalog: catalog(),
    providers: { slm: providerFor(cfg.models.slm, cfg), llm: providerFor(cfg.models.llm, cfg) },
    classifier,
    metering: metering(),
    settings: createRoutingSettingsStore(options),
    orgs: access().orgStore,
    events: realtime().events,
    limits: access().rateLimits,
  });
});

/**
 * A tier's provider: the offline responder without an endpoint; with one, the `openai` SDK, loaded on
 * the first call (an instance that only answers offline, or fails before a model call, never pays for
 * it), with its API key from SSM when the endpoint has one (`models:keys`).
 */
function providerFor(endpoint: EndpointSettings, cfg: Config): ChatProvider {
  if (!endpoint.baseURL) return createOfflineProvider();
  const baseURL = endpoint.baseURL;
  let loaded: Promise<ChatProvider> | undefined;
  const provider = () =>
    (loaded ??= import("../../../core/models/openai-provider").then(({ createOpenAiProvider }) =>
      createOpenAiProvider({
        ...endpoint,
        baseURL,
        timeoutMs: cfg.models.timeoutMs,
        maxRetries: cfg.models.maxRetries,
        ...(endpoint.apiKeyParameter ? { resolveApiKey: () => modelApiKey(endpoint.apiKeyParameter!, cfg.region) } : {}),
      }),
    ));
  return {
    offline: false,
    complete: async (request) => (await provider()).complete(request),
    async *stream(request) {
      yield* (await provider()).stream(request);
    },
  };
}

/**
 * A model endpoint's API key from its SSM SecureString (AWS). A parameter that does not exist means the
 * endpoint needs no key (a self-hosted Ollama or vLLM).
 */
async function modelApiKey(name: string, region: string): Promise<string | undefined> {
  const { readSecureParameter } = await import("../audit-key");
  try {
    return (await readSecureParameter(name, { region })).trim();
  } catch (error) {
    if (error instanceof Error && error.name === "ParameterNotFound") return undefined;
    throw error;
  }
}
