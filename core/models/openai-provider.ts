import OpenAI from "openai";
import type { EndpointSettings } from "./catalog";
import { estimateTokens } from "./cost";
import { type ChatProvider, type ProviderRequest, type ProviderResult, ProviderError, type StreamEvent, type ToolCall } from "./provider";

export interface OpenAiProviderOptions extends EndpointSettings {
  baseURL: string;
  timeoutMs: number;
  maxRetries: number;
  /** Resolves the API key on first use (a secret store), when it is not given as `apiKey`. */
  resolveApiKey?: () => Promise<string | undefined>;
}

function classify(error: unknown): ProviderError {
  if (error instanceof ProviderError) return error;
  if (error instanceof OpenAI.APIConnectionTimeoutError) return new ProviderError("timeout", "The model did not answer in time.");
  if (error instanceof OpenAI.APIUserAbortError) return new ProviderError("timeout", "The model call was aborted.");
  if (error instanceof OpenAI.APIError) {
    return new ProviderError("failed", `The model endpoint answered ${error.status ?? "with an error"}: ${error.message}`, error.status);
  }
  return new ProviderError("failed", `The model endpoint failed: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * The SDK's per-request options within the request's time: a single try never waits longer than the
 * time left (`timeout`), and the signal ends everything at it, retries included.
 */
function requestOptions(request: ProviderRequest, configuredMs: number) {
  return {
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.timeoutMs !== undefined ? { timeout: Math.max(1, Math.min(configuredMs, Math.floor(request.timeoutMs))) } : {}),
  };
}

/**
 * `promise`, or a timeout as soon as `signal` aborts. The SDK checks its signal between retries but
 * sleeps through a retry delay without looking at it, and obeys any `Retry-After` the endpoint sends
 * (a 429 saying "60" would sleep a minute): so the deadline is enforced here, not left to the SDK. The
 * abandoned call ends by itself at its next check of the (aborted) signal.
 */
function withinSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new ProviderError("timeout", "The model did not answer before the deadline."));
    if (signal.aborted) {
      promise.catch(() => undefined);
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/**
 * A tier's models through the official `openai` SDK against any OpenAI-compatible endpoint (OpenAI,
 * Ollama, vLLM, llama.cpp's server). The SDK bounds each call (`timeout`) and retries 429/5xx with
 * backoff (`maxRetries`); a request's own `timeoutMs` and `signal` (its deadline) bound all of that
 * further. Falling back to the other tier is the caller's decision.
 */
export function createOpenAiProvider(options: OpenAiProviderOptions): ChatProvider {
  let client: Promise<OpenAI> | undefined;
  // Built on first use, once: the key may come from a secret store, read at most once per cold start.
  const clientOf = () =>
    (client ??= (async () =>
      new OpenAI({
        baseURL: options.baseURL,
        apiKey: options.apiKey ?? (await options.resolveApiKey?.()) ?? "none",
        timeout: options.timeoutMs,
        maxRetries: options.maxRetries,
      }))().catch((error: unknown) => {
      client = undefined;
      throw new ProviderError("failed", `The model endpoint's API key could not be read: ${error instanceof Error ? error.message : String(error)}`);
    }));

  const body = (request: ProviderRequest) => ({
    ...request.params,
    model: request.model.upstream,
    messages: request.messages as OpenAI.ChatCompletionMessageParam[],
    max_tokens: request.maxTokens,
  });

  return {
    offline: false,

    async complete(request) {
      try {
        const completion = await withinSignal(
          clientOf().then((client) => client.chat.completions.create({ ...body(request), stream: false }, requestOptions(request, options.timeoutMs))),
          request.signal,
        );
        const choice = completion.choices[0];
        const content = choice?.message.content ?? null;
        const toolCalls = (choice?.message.tool_calls ?? []).filter((c) => c.type === "function") as ToolCall[];
        const usage = completion.usage;
        return {
          content,
          toolCalls,
          finishReason: choice?.finish_reason ?? "stop",
          usage: usage
            ? { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens }
            : { inputTokens: estimateTokens(JSON.stringify(request.messages)), outputTokens: estimateTokens(content ?? "") },
          estimated: !usage,
        };
      } catch (error) {
        throw classify(error);
      }
    },

    async *stream(request): AsyncIterable<StreamEvent> {
      let stream;
      try {
        stream = await withinSignal(
          clientOf().then((client) =>
            client.chat.completions.create({ ...body(request), stream: true, stream_options: { include_usage: true } }, requestOptions(request, options.timeoutMs)),
          ),
          request.signal,
        );
      } catch (error) {
        throw classify(error);
      }
      let content = "";
      let finishReason = "stop";
      let usage: ProviderResult["usage"] | undefined;
      const calls: ToolCall[] = [];
      try {
        for await (const chunk of stream) {
          if (chunk.usage) usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens };
          const choice = chunk.choices[0];
          if (!choice) continue;
          if (choice.finish_reason) finishReason = choice.finish_reason;
          const delta = choice.delta;
          const toolDeltas = (delta.tool_calls ?? []).map((t) => {
            const call = (calls[t.index] ??= { id: "", type: "function", function: { name: "", arguments: "" } });
            if (t.id) call.id = t.id;
            if (t.function?.name) call.function.name += t.function.name;
            if (t.function?.arguments) call.function.arguments += t.function.arguments;
            return {
              index: t.index,
              ...(t.id ? { id: t.id } : {}),
              ...(t.function?.name ? { name: t.function.name } : {}),
              ...(t.function?.arguments ? { arguments: t.function.arguments } : {}),
            };
          });
          if (delta.content) content += delta.content;
          if (delta.content || toolDeltas.length) {
            yield { type: "delta", ...(delta.content ? { content: delta.content } : {}), ...(toolDeltas.length ? { toolCalls: toolDeltas } : {}) };
          }
        }
      } catch (error) {
        throw classify(error);
      }
      // The SDK ends an aborted stream quietly, as if it were complete: it is a timeout, not an answer.
      if (request.signal?.aborted) throw new ProviderError("timeout", "The model did not finish before the deadline.");
      yield {
        type: "done",
        result: {
          content: content || (calls.length ? null : ""),
          toolCalls: calls.filter(Boolean),
          finishReason,
          usage: usage ?? { inputTokens: estimateTokens(JSON.stringify(request.messages)), outputTokens: estimateTokens(content) },
          estimated: !usage,
        },
      };
    },
  };
}
