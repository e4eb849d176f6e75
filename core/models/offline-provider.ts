import { estimateTokens } from "./cost";
import type { ChatProvider, ProviderRequest, ProviderResult, StreamEvent } from "./provider";

/** Marks every offline answer, so nobody mistakes it for a model's. */
export const OFFLINE_PREFIX = "[offline responder]";

function lastUserText(request: ProviderRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role !== "user") continue;
    if (typeof message.content === "string") return message.content;
    if (Array.isArray(message.content)) {
      return message.content.map((p) => (p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : "")).join(" ");
    }
  }
  return "";
}

function answer(request: ProviderRequest): ProviderResult {
  const question = lastUserText(request).replace(/\s+/g, " ").trim();
  const quoted = question.length > 120 ? `${question.slice(0, 117)}...` : question;
  const content =
    `${OFFLINE_PREFIX} No ${request.model.tier.toUpperCase()} endpoint is configured, so this is not a model's answer. ` +
    `The router sent your message ("${quoted}") to ${request.model.name} (${request.model.tier}). ` +
    `Set AGENTORG_${request.model.tier.toUpperCase()}_BASE_URL to an OpenAI-compatible endpoint to get real answers.`;
  const words = content.split(" ");
  const limited = words.slice(0, Math.max(1, request.maxTokens)).join(" ");
  return {
    content: limited,
    toolCalls: [],
    finishReason: limited.length < content.length ? "length" : "stop",
    usage: { inputTokens: estimateTokens(JSON.stringify(request.messages)), outputTokens: estimateTokens(limited) },
    estimated: true,
  };
}

/**
 * The offline responder: answers when a tier has no endpoint, so the platform works end to end on a
 * fresh machine. Deterministic, instant, labelled in its text; its usage is an estimate (4 characters a
 * token) and is recorded as such.
 */
export function createOfflineProvider(): ChatProvider {
  return {
    offline: true,
    async complete(request) {
      return answer(request);
    },
    async *stream(request): AsyncIterable<StreamEvent> {
      const result = answer(request);
      const words = (result.content ?? "").split(/(?<= )/);
      for (let i = 0; i < words.length; i += 4) yield { type: "delta", content: words.slice(i, i + 4).join("") };
      yield { type: "done", result };
    },
  };
}
