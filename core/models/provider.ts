import type { ModelSpec } from "./catalog";

/** A chat message in OpenAI's wire shape (content may be a string or content parts). */
export interface WireMessage {
  role: "system" | "developer" | "user" | "assistant" | "tool";
  content?: unknown;
  name?: string;
  tool_calls?: unknown[];
  tool_call_id?: string;
}

/** What we send to a model: the client's request with our model name and a bounded output. */
export interface ProviderRequest {
  model: ModelSpec;
  messages: WireMessage[];
  maxTokens: number;
  /** Other Chat Completions parameters passed through (temperature, tools, tool_choice, stop, ...). */
  params: Record<string, unknown>;
  /**
   * Ends the call, the SDK's retries and a stream being read included; aborting counts as a timeout.
   * The chat service sets it from the invocation's deadline (core/shared/deadline.ts).
   */
  signal?: AbortSignal;
  /** At most this long for the call (the provider's configured per-call timeout still applies if shorter). */
  timeoutMs?: number;
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface ProviderResult {
  content: string | null;
  toolCalls: ToolCall[];
  finishReason: string;
  usage: Usage;
  /** True when usage was estimated (offline responder, or a provider that returned none). */
  estimated: boolean;
}

/** A piece of a streamed answer. */
export type StreamEvent =
  | { type: "delta"; content?: string; toolCalls?: { index: number; id?: string; name?: string; arguments?: string }[] }
  | { type: "done"; result: ProviderResult };

/** One tier's way to reach models: the openai SDK against an endpoint, or the offline responder. */
export interface ChatProvider {
  readonly offline: boolean;
  complete(request: ProviderRequest): Promise<ProviderResult>;
  stream(request: ProviderRequest): AsyncIterable<StreamEvent>;
}

/** A provider failure, classified so the edge can answer 502 or 504. */
export class ProviderError extends Error {
  constructor(
    readonly kind: "timeout" | "failed",
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "ProviderError";
  }
}
