import type { ProviderResult, StreamEvent } from "../models/provider";
import type { UsageRecord } from "../metering/ports";

const MICRO = 1_000_000;

/** Our routing facts, attached to responses as `agentorg` (OpenAI clients ignore unknown members). */
export function routingFacts(record: UsageRecord) {
  return {
    tier: record.tier,
    score: record.score,
    threshold: record.threshold,
    reason: record.reason,
    offline: record.offline,
    costUsd: record.costMicroUsd / MICRO,
    savingsUsd: Math.max(0, record.baselineMicroUsd - record.costMicroUsd) / MICRO,
    estimated: record.estimated,
    fallback: record.attempts.length > 1,
  };
}

const usageOf = (result: ProviderResult) => ({
  prompt_tokens: result.usage.inputTokens,
  completion_tokens: result.usage.outputTokens,
  total_tokens: result.usage.inputTokens + result.usage.outputTokens,
});

/** A Chat Completions response (`object: "chat.completion"`). */
export function toChatCompletion(id: string, created: number, result: ProviderResult, record: UsageRecord) {
  return {
    id,
    object: "chat.completion" as const,
    created,
    model: record.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant" as const,
          content: result.content,
          ...(result.toolCalls.length ? { tool_calls: result.toolCalls } : {}),
          refusal: null,
        },
        finish_reason: result.finishReason,
        logprobs: null,
      },
    ],
    usage: usageOf(result),
    agentorg: routingFacts(record),
  };
}

/**
 * Server-Sent Events of a streamed completion in OpenAI's chunk format: the first delta carries the
 * role (OpenAI's `.stream()` helper relies on it), then content and tool-call pieces, then the
 * finish reason, then (with `include_usage`) a usage chunk with no choices, then `[DONE]`.
 */
export function createChunkWriter(id: string, created: number, model: string, includeUsage: boolean) {
  let first = true;
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, system_fingerprint: null, choices, ...extra })}\n\n`;
  return {
    delta(event: Extract<StreamEvent, { type: "delta" }>): string {
      const delta: Record<string, unknown> = {};
      if (first) {
        delta.role = "assistant";
        first = false;
      }
      if (event.content !== undefined) delta.content = event.content;
      if (event.toolCalls) {
        delta.tool_calls = event.toolCalls.map((t) => ({
          index: t.index,
          ...(t.id ? { id: t.id, type: "function" } : {}),
          function: { ...(t.name ? { name: t.name } : {}), ...(t.arguments !== undefined ? { arguments: t.arguments } : {}) },
        }));
      }
      return chunk([{ index: 0, delta, finish_reason: null, logprobs: null }]);
    },
    finish(result: ProviderResult, record: UsageRecord): string {
      let out = "";
      if (first) out += this.delta({ type: "delta", content: "" });
      out += chunk([{ index: 0, delta: {}, finish_reason: result.finishReason, logprobs: null }], { model: record.model });
      if (includeUsage) out += chunk([], { usage: usageOf(result), agentorg: routingFacts(record) });
      return out + "data: [DONE]\n\n";
    },
  };
}
