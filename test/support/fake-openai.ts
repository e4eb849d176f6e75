import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type OpenAI from "openai";

/** A function call the fake model makes. `arguments` objects are sent as JSON; strings are sent as is (even invalid JSON). */
export interface FakeToolCall {
  name: string;
  arguments: object | string;
  /** Defaults to `call_fake_<n>`. */
  id?: string;
}

/** An HTTP error answered instead of a completion. `body` defaults to OpenAI's error shape for `status`. */
export interface FakeError {
  status: number;
  /** An object is sent as JSON, a string as is. */
  body?: unknown;
  /** E.g. `{ "retry-after": "0.1" }` (seconds, as the SDK reads it) or `{ "x-should-retry": "false" }`. */
  headers?: Record<string, string>;
}

/**
 * What the fake model answers. Every field is optional: `{}` is the default reply
 * (`"fake reply to: <last user message>"`, usage estimated at ceil(chars / 4)).
 */
export interface FakeReply {
  /** `null` for a tool-call-only answer (the default when `toolCalls` is set). */
  content?: string | null;
  /** Explicit stream pieces; the content is their concatenation and wins over `content`. */
  chunks?: string[];
  toolCalls?: FakeToolCall[];
  /** Overrides the estimate; a missing field is still estimated. `total_tokens` is always the sum. */
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  /** Defaults to `"tool_calls"` when there are tool calls, else `"stop"`. */
  finishReason?: OpenAI.ChatCompletion.Choice["finish_reason"];
  /** Wait before the response (before the first byte of a stream). */
  delayMs?: number;
  /** Wait between stream chunks. */
  chunkDelayMs?: number;
  error?: FakeError;
  /** Never answer; the connection stays open until the client gives up or `close()` is called. */
  hang?: boolean;
}

/** A reply, or a string as shorthand for `{ content }`. */
export type ScriptedReply = FakeReply | string;

/** A validated chat completion request, as a responder sees it. */
export interface FakeChatRequest {
  model: string;
  messages: OpenAI.ChatCompletionMessageParam[];
  stream: boolean;
  /** Text of the last `user` message, `""` when there is none. */
  lastUserText: string;
  body: OpenAI.ChatCompletionCreateParams;
  headers: IncomingHttpHeaders;
}

/** Decides a reply from the request; `undefined` falls back to the default reply. */
export type Responder = (request: FakeChatRequest) => ScriptedReply | undefined | Promise<ScriptedReply | undefined>;

/** Everything the fake received, valid or not. `body` is the parsed JSON exactly as sent (unvalidated). */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/chat/completions`. */
  path: string;
  /** Lower-cased, as Node gives them: `headers.authorization === "Bearer test"`. */
  headers: IncomingHttpHeaders;
  body: Partial<OpenAI.ChatCompletionCreateParams> | undefined;
  rawBody: string;
  /** `Date.now()` when the request had been read. */
  at: number;
}

export interface FakeOpenAIOptions {
  /** Ids listed by `GET /v1/models`. Defaults to the upstream names of the default catalog. */
  models?: string[];
  /** Answer 404 `model_not_found` for a model not in `models`, as OpenAI does (Ollama and vLLM do too). */
  rejectUnknownModels?: boolean;
  /** Answer 401 `invalid_api_key` unless the request carries `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
}

/** A running fake; see {@link startFakeOpenAI}. */
export interface FakeOpenAI {
  /** `http://127.0.0.1:<port>/v1`, for the SDK's `baseURL`. */
  readonly baseURL: string;
  /** Every request received, oldest first (a live array; `reset()` empties it). */
  readonly requests: RecordedRequest[];
  /** Queues replies for the next chat completions to any model (FIFO, each used once). */
  script(...replies: ScriptedReply[]): void;
  /** Queues replies for the next chat completions to `model` (FIFO, each used once; checked before `script`'s queue). */
  scriptFor(model: string, ...replies: ScriptedReply[]): void;
  /** Sets a lasting responder, consulted when no queued reply applies. */
  respond(responder: Responder): void;
  /** Clears queues, the responder and the recorded requests. */
  reset(): void;
  /** Stops the server, cutting open (hanging, streaming) connections. Idempotent. */
  close(): Promise<void>;
}

const DEFAULT_MODELS = ["llama3.2:3b", "phi3.5", "gpt-4o", "gpt-4.1"];
const ARGUMENT_PIECE = 6;

type ErrorBody = { error: { message: string; type: string; param: string | null; code: string | null } };

function errorBody(message: string, type: string, param: string | null = null, code: string | null = null): ErrorBody {
  return { error: { message, type, param, code } };
}

/** OpenAI's own wording and types for the statuses tests script most. */
function defaultErrorBody(status: number): ErrorBody {
  switch (status) {
    case 400:
      return errorBody("Invalid request.", "invalid_request_error");
    case 401:
      return errorBody("Incorrect API key provided.", "invalid_request_error", null, "invalid_api_key");
    case 404:
      return errorBody("Not found.", "invalid_request_error");
    case 429:
      return errorBody("Rate limit reached for requests. Please try again later.", "requests", null, "rate_limit_exceeded");
    case 503:
      return errorBody("The engine is currently overloaded, please try again later.", "server_error");
    default:
      return status >= 500
        ? errorBody("The server had an error while processing your request. Sorry about that!", "server_error")
        : errorBody(`Request failed with status ${status}.`, "invalid_request_error");
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on("data", (part: Buffer) => parts.push(part));
    req.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    req.on("error", reject);
  });
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part: { type?: string; text?: unknown }) => (part?.type === "text" && typeof part.text === "string" ? part.text : "")).join("");
  }
  return "";
}

const estimate = (text: string) => Math.ceil(text.length / 4);

function promptText(messages: OpenAI.ChatCompletionMessageParam[]): string {
  return messages
    .map((m) => {
      const calls = m.role === "assistant" ? (m.tool_calls ?? []) : [];
      return textOf(m.content) + calls.map((c) => (c.type === "function" ? c.function.name + c.function.arguments : "")).join("");
    })
    .join("");
}

/** Pieces that keep their leading whitespace, like model tokens (`"fake"`, `" reply"`). */
function splitWords(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

function slices(text: string, size: number): string[] {
  const chars = Array.from(text);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(""));
  return out;
}

interface Answer {
  content: string | null;
  pieces: string[];
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: OpenAI.ChatCompletion.Choice["finish_reason"];
  usage: OpenAI.CompletionUsage;
}

/**
 * Starts an OpenAI-compatible server on 127.0.0.1 (a free port) that speaks the Chat Completions wire
 * format, JSON and SSE, so tests drive the real `openai` SDK: `new OpenAI({ baseURL: fake.baseURL })`.
 * Serves `POST /v1/chat/completions`, `GET /v1/models` and `GET /v1/models/{id}`.
 */
export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  const models = options.models ?? DEFAULT_MODELS;
  const requests: RecordedRequest[] = [];
  const queue: ScriptedReply[] = [];
  const byModel = new Map<string, ScriptedReply[]>();
  let responder: Responder | undefined;
  let sequence = 0;
  let toolSequence = 0;

  async function pick(request: FakeChatRequest): Promise<FakeReply> {
    const scripted = byModel.get(request.model)?.shift() ?? queue.shift() ?? (await responder?.(request));
    if (scripted === undefined) return {};
    return typeof scripted === "string" ? { content: scripted } : scripted;
  }

  function answer(reply: FakeReply, request: FakeChatRequest): Answer {
    const toolCalls = (reply.toolCalls ?? []).map((call) => ({
      id: call.id ?? `call_fake_${++toolSequence}`,
      name: call.name,
      arguments: typeof call.arguments === "string" ? call.arguments : JSON.stringify(call.arguments),
    }));
    const content = reply.chunks
      ? reply.chunks.join("")
      : reply.content !== undefined
        ? reply.content
        : toolCalls.length
          ? null
          : `fake reply to: ${request.lastUserText}`;
    const prompt = reply.usage?.prompt_tokens ?? estimate(promptText(request.messages));
    const completion =
      reply.usage?.completion_tokens ?? estimate((content ?? "") + toolCalls.map((c) => c.name + c.arguments).join(""));
    return {
      content,
      pieces: reply.chunks ?? splitWords(content ?? ""),
      toolCalls,
      finishReason: reply.finishReason ?? (toolCalls.length ? "tool_calls" : "stop"),
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
    };
  }

  function completion(id: string, model: string, a: Answer): OpenAI.ChatCompletion {
    const message: OpenAI.ChatCompletionMessage = { role: "assistant", content: a.content, refusal: null };
    if (a.toolCalls.length) {
      message.tool_calls = a.toolCalls.map((c) => ({ id: c.id, type: "function", function: { name: c.name, arguments: c.arguments } }));
    }
    return {
      id,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model,
      system_fingerprint: "fp_fake",
      choices: [{ index: 0, message, finish_reason: a.finishReason, logprobs: null }],
      usage: a.usage,
    };
  }

  /** The chunk sequence OpenAI sends: role first, content pieces, each tool call's header then its argument pieces, finish. */
  function chunks(id: string, model: string, a: Answer, includeUsage: boolean): OpenAI.ChatCompletionChunk[] {
    const created = Math.floor(Date.now() / 1000);
    const chunk = (
      delta: OpenAI.ChatCompletionChunk.Choice.Delta,
      finish: OpenAI.ChatCompletionChunk.Choice["finish_reason"] = null,
    ): OpenAI.ChatCompletionChunk => ({
      id,
      object: "chat.completion.chunk",
      created,
      model,
      system_fingerprint: "fp_fake",
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(includeUsage ? { usage: null } : {}),
    });
    const out = [chunk({ role: "assistant", content: a.content === null ? null : "", refusal: null })];
    for (const piece of a.pieces) out.push(chunk({ content: piece }));
    a.toolCalls.forEach((call, index) => {
      out.push(chunk({ tool_calls: [{ index, id: call.id, type: "function", function: { name: call.name, arguments: "" } }] }));
      for (const piece of slices(call.arguments, ARGUMENT_PIECE)) out.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
    });
    out.push(chunk({}, a.finishReason));
    if (includeUsage) out.push({ id, object: "chat.completion.chunk", created, model, system_fingerprint: "fp_fake", choices: [], usage: a.usage });
    return out;
  }

  async function chatCompletions(req: IncomingMessage, res: ServerResponse, body: unknown, signal: AbortSignal): Promise<void> {
    if (body === undefined || typeof body !== "object" || body === null || Array.isArray(body)) {
      return sendJson(res, 400, errorBody("We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.", "invalid_request_error"));
    }
    const params = body as Record<string, unknown>;
    if (typeof params.model !== "string" || params.model === "") {
      return sendJson(res, 400, errorBody("you must provide a model parameter", "invalid_request_error"));
    }
    if (params.messages === undefined) {
      return sendJson(res, 400, errorBody("Missing required parameter: 'messages'.", "invalid_request_error", "messages", "missing_required_parameter"));
    }
    if (!Array.isArray(params.messages)) {
      return sendJson(res, 400, errorBody("Invalid type for 'messages': expected an array.", "invalid_request_error", "messages", "invalid_type"));
    }
    if (params.messages.length === 0) {
      return sendJson(
        res,
        400,
        errorBody("Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "invalid_request_error", "messages", "empty_array"),
      );
    }
    if (options.rejectUnknownModels && !models.includes(params.model)) {
      return sendJson(
        res,
        404,
        errorBody(`The model \`${params.model}\` does not exist or you do not have access to it.`, "invalid_request_error", null, "model_not_found"),
      );
    }

    const create = params as unknown as OpenAI.ChatCompletionCreateParams;
    const lastUser = [...create.messages].reverse().find((m) => m.role === "user");
    const request: FakeChatRequest = {
      model: create.model,
      messages: create.messages,
      stream: create.stream === true,
      lastUserText: lastUser ? textOf(lastUser.content) : "",
      body: create,
      headers: req.headers,
    };
    const reply = await pick(request);

    if (reply.delayMs) await sleep(reply.delayMs, undefined, { signal });
    if (reply.hang) return; // the response stays open until the client aborts or close() cuts it
    if (reply.error) {
      const { status, body: errorPayload, headers } = reply.error;
      return sendJson(res, status, errorPayload ?? defaultErrorBody(status), headers);
    }

    const id = `chatcmpl-fake${++sequence}`;
    const a = answer(reply, request);
    if (!request.stream) return sendJson(res, 200, completion(id, request.model, a));

    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", connection: "keep-alive" });
    res.flushHeaders();
    const includeUsage = create.stream_options?.include_usage === true;
    let first = true;
    for (const chunk of chunks(id, request.model, a, includeUsage)) {
      if (!first && reply.chunkDelayMs) await sleep(reply.chunkDelayMs, undefined, { signal });
      first = false;
      if (signal.aborted) return;
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end("data: [DONE]\n\n");
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Fires when the response ends or the connection drops (client timeout, close()): stops delays and streams.
    const aborted = new AbortController();
    res.on("close", () => aborted.abort());

    const rawBody = await readBody(req);
    let body: unknown;
    try {
      body = rawBody ? JSON.parse(rawBody) : undefined;
    } catch {
      body = undefined;
    }
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const method = req.method ?? "GET";
    requests.push({ method, path, headers: req.headers, body: body as RecordedRequest["body"], rawBody, at: Date.now() });
    res.setHeader("x-request-id", `req_fake_${requests.length}`);

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(res, 401, defaultErrorBody(401));
    }
    if (method === "POST" && path === "/v1/chat/completions") {
      if (rawBody && body === undefined) {
        return sendJson(res, 400, errorBody("We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.", "invalid_request_error"));
      }
      return chatCompletions(req, res, body, aborted.signal);
    }
    if (method === "GET" && path === "/v1/models") {
      return sendJson(res, 200, { object: "list", data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "fake" })) });
    }
    const modelId = method === "GET" && path.startsWith("/v1/models/") ? decodeURIComponent(path.slice("/v1/models/".length)) : undefined;
    if (modelId !== undefined) {
      return models.includes(modelId)
        ? sendJson(res, 200, { id: modelId, object: "model", created: 0, owned_by: "fake" })
        : sendJson(res, 404, errorBody(`The model '${modelId}' does not exist`, "invalid_request_error", "model", "model_not_found"));
    }
    return sendJson(res, 404, errorBody(`Invalid URL (${method} ${path})`, "invalid_request_error"));
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof Error && error.name === "AbortError") return; // the client left during a delay
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, errorBody(`fake-openai: ${error instanceof Error ? error.message : String(error)}`, "server_error"));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    script(...replies) {
      queue.push(...replies);
    },
    scriptFor(model, ...replies) {
      const existing = byModel.get(model) ?? [];
      existing.push(...replies);
      byModel.set(model, existing);
    },
    respond(next) {
      responder = next;
    },
    reset() {
      queue.length = 0;
      byModel.clear();
      responder = undefined;
      requests.length = 0;
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
