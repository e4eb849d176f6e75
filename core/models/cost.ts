import type { ModelSpec } from "./catalog";

/** Cost of a call in micro-USD (integers, so counters add exactly). */
export function costMicroUsd(model: ModelSpec, inputTokens: number, outputTokens: number): number {
  return Math.ceil(inputTokens * model.inputUsdPerMTok + outputTokens * model.outputUsdPerMTok);
}

interface MessageLike {
  content?: unknown;
}

/**
 * An upper bound on a request's input tokens: a BPE token is at least one byte of UTF-8, plus a few
 * tokens of framing per message. Used to reserve budget before the call, so concurrent calls cannot
 * overrun it (the reservation is settled with the real usage afterwards).
 */
export function inputTokenUpperBound(messages: readonly MessageLike[], tools?: unknown): number {
  let bytes = 0;
  for (const message of messages) {
    bytes += Buffer.byteLength(typeof message.content === "string" ? message.content : JSON.stringify(message.content ?? ""));
    bytes += 8;
  }
  if (tools) bytes += Buffer.byteLength(JSON.stringify(tools));
  return bytes + 16;
}

/**
 * An estimate of a request's input tokens: about 4 characters a token, plus a few tokens of framing per
 * message (OpenAI's own chat format adds 3 to 4). The same traversal as `inputTokenUpperBound`, but an
 * expected value, not a bound: rate limits count tokens per minute with it (plus `max_tokens`), as
 * OpenAI does, so a tenant's limit means what it says; the budget, which must never be overrun, keeps
 * the upper bound.
 */
export function inputTokenEstimate(messages: readonly MessageLike[], tools?: unknown): number {
  let tokens = 3;
  for (const message of messages) {
    tokens += estimateTokens(typeof message.content === "string" ? message.content : JSON.stringify(message.content ?? "")) + 4;
  }
  if (tools) tokens += estimateTokens(JSON.stringify(tools));
  return tokens;
}

/** A rough token estimate (4 characters a token) for the offline responder's usage figures. */
export const estimateTokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));
