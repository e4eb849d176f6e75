import OpenAI, { type APIError } from "openai";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeOpenAI, startFakeOpenAI } from "../../support/fake-openai";

let fake: FakeOpenAI;
let client: OpenAI;

const hello: OpenAI.ChatCompletionMessageParam[] = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Hello there" },
];

beforeAll(async () => {
  fake = await startFakeOpenAI();
  client = new OpenAI({ baseURL: fake.baseURL, apiKey: "test", maxRetries: 0 });
});

afterAll(async () => {
  await fake.close();
});

beforeEach(() => {
  fake.reset();
});

/** Raw POST, for what the SDK's types would not let us send and for the bytes on the wire. */
function post(body: unknown): Promise<Response> {
  return fetch(`${fake.baseURL}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer raw" },
    body: JSON.stringify(body),
  });
}

describe("non-streaming completions", () => {
  it("answers the default reply with the requested model and deterministic usage", async () => {
    // Act
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages: hello });

    // Assert
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe("gpt-4o");
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]).toMatchObject({
      index: 0,
      message: { role: "assistant", content: "fake reply to: Hello there", refusal: null },
      finish_reason: "stop",
      logprobs: null,
    });
    expect(completion.choices[0]?.message.tool_calls).toBeUndefined();
    // "Be brief." + "Hello there" = 20 chars -> 5; "fake reply to: Hello there" = 26 chars -> 7.
    expect(completion.usage).toEqual({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  });

  it("returns scripted content, finish reason and usage, with a string as shorthand", async () => {
    // Arrange
    fake.script({ content: "cut off", finishReason: "length", usage: { prompt_tokens: 40, completion_tokens: 2 } }, "short");

    // Act
    const first = await client.chat.completions.create({ model: "phi3.5", messages: hello });
    const second = await client.chat.completions.create({ model: "phi3.5", messages: hello });

    // Assert
    expect(first.choices[0]?.message.content).toBe("cut off");
    expect(first.choices[0]?.finish_reason).toBe("length");
    expect(first.usage).toEqual({ prompt_tokens: 40, completion_tokens: 2, total_tokens: 42 });
    expect(second.choices[0]?.message.content).toBe("short");
  });

  it("returns tool calls with JSON arguments and finish_reason tool_calls", async () => {
    // Arrange
    fake.script({
      toolCalls: [
        { name: "get_weather", arguments: { city: "Paris", unit: "celsius" } },
        { name: "open_ticket", arguments: '{"title":"VPN down"}', id: "call_given" },
      ],
    });

    // Act
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages: hello });

    // Assert
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe("tool_calls");
    expect(choice?.message.content).toBeNull();
    const calls = (choice?.message.tool_calls ?? []).filter((c) => c.type === "function");
    expect(calls.map((c) => c.function.name)).toEqual(["get_weather", "open_ticket"]);
    expect(calls[0]?.id).toMatch(/^call_/);
    expect(calls[1]?.id).toBe("call_given");
    expect(JSON.parse(calls[0]?.function.arguments ?? "")).toEqual({ city: "Paris", unit: "celsius" });
    expect(JSON.parse(calls[1]?.function.arguments ?? "")).toEqual({ title: "VPN down" });
  });
});

describe("streaming completions", () => {
  it("streams role first, content in several chunks, finish_reason, then a usage chunk", async () => {
    // Act
    const stream = await client.chat.completions.create({
      model: "llama3.2:3b",
      messages: hello,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    // Assert
    expect(chunks.every((c) => c.object === "chat.completion.chunk" && c.model === "llama3.2:3b")).toBe(true);
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe("assistant");
    const pieces = chunks.flatMap((c) => (c.choices[0]?.delta.content ? [c.choices[0].delta.content] : []));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join("")).toBe("fake reply to: Hello there");
    const finishes = chunks.flatMap((c) => (c.choices[0]?.finish_reason ? [c.choices[0].finish_reason] : []));
    expect(finishes).toEqual(["stop"]);
    const last = chunks.at(-1);
    expect(last?.choices).toEqual([]);
    expect(last?.usage).toEqual({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  });

  it("puts SSE on the wire: data lines, no usage chunk unless asked, and [DONE]", async () => {
    // Act
    const response = await post({ model: "gpt-4o", messages: hello, stream: true });
    const text = await response.text();

    // Assert
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = text.split("\n\n").filter(Boolean);
    expect(events.every((e) => e.startsWith("data: "))).toBe(true);
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e.slice("data: ".length)) as OpenAI.ChatCompletionChunk);
    expect(chunks.every((c) => c.choices.length === 1 && c.usage === undefined)).toBe(true);
    expect(chunks.at(-1)?.choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
  });

  it("sends explicit chunks exactly as scripted", async () => {
    // Arrange
    fake.script({ chunks: ["Hel", "lo", " world"] });

    // Act
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: hello, stream: true });
    const pieces: string[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) pieces.push(chunk.choices[0].delta.content);

    // Assert
    expect(pieces).toEqual(["Hel", "lo", " world"]);
  });

  it("works with the SDK's stream() helper and finalChatCompletion()", async () => {
    // Arrange
    fake.script({ content: "one two three four", usage: { prompt_tokens: 9 } });

    // Act
    const stream = client.chat.completions.stream({
      model: "gpt-4o",
      messages: hello,
      stream_options: { include_usage: true },
    });
    const deltas: string[] = [];
    stream.on("content.delta", ({ delta }) => deltas.push(delta));
    const final = await stream.finalChatCompletion();

    // Assert
    expect(deltas).toEqual(["one", " two", " three", " four"]);
    expect(final.object).toBe("chat.completion");
    expect(final.choices[0]?.message).toMatchObject({ role: "assistant", content: "one two three four" });
    expect(final.choices[0]?.finish_reason).toBe("stop");
    expect(final.usage).toEqual({ prompt_tokens: 9, completion_tokens: 5, total_tokens: 14 });
  });

  it("streams tool calls with their arguments split across chunks", async () => {
    // Arrange
    const args = { query: "printer on floor 3 is offline", priority: "high", tags: ["hardware", "printing"] };
    fake.script({ toolCalls: [{ name: "search_kb", arguments: args }, { name: "escalate", arguments: { team: "desk" } }] });

    // Act
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: hello, stream: true });
    const calls: { id: string; name: string; arguments: string; pieces: number }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.finish_reason) finish = choice.finish_reason;
      for (const delta of choice?.delta.tool_calls ?? []) {
        const call = (calls[delta.index] ??= { id: "", name: "", arguments: "", pieces: 0 });
        if (delta.id) call.id = delta.id;
        if (delta.function?.name) call.name = delta.function.name;
        if (delta.function?.arguments) {
          call.arguments += delta.function.arguments;
          call.pieces++;
        }
      }
    }

    // Assert
    expect(finish).toBe("tool_calls");
    expect(calls.map((c) => c.name)).toEqual(["search_kb", "escalate"]);
    expect(calls.every((c) => c.id.startsWith("call_"))).toBe(true);
    expect(calls[0]?.pieces).toBeGreaterThan(1);
    expect(JSON.parse(calls[0]?.arguments ?? "")).toEqual(args);
    expect(JSON.parse(calls[1]?.arguments ?? "")).toEqual({ team: "desk" });
  });

  it("lets the stream() helper reassemble streamed tool calls", async () => {
    // Arrange
    fake.script({ toolCalls: [{ name: "get_weather", arguments: { city: "Zürich" } }] });
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } },
    ];

    // Act
    const final = await client.chat.completions.stream({ model: "gpt-4o", messages: hello, tools }).finalChatCompletion();

    // Assert
    const call = final.choices[0]?.message.tool_calls?.[0];
    expect(final.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type).toBe("function");
    expect(call?.type === "function" && call.function.name).toBe("get_weather");
    expect(call?.type === "function" && JSON.parse(call.function.arguments)).toEqual({ city: "Zürich" });
  });

  it("waits delayMs before the first byte and chunkDelayMs between chunks", async () => {
    // Arrange
    fake.script({ chunks: ["a", "b", "c"], delayMs: 150, chunkDelayMs: 60 });
    const started = Date.now();

    // Act
    const stream = await client.chat.completions.create({ model: "gpt-4o", messages: hello, stream: true });
    const firstByte = Date.now() - started;
    for await (const _chunk of stream);
    const total = Date.now() - started;

    // Assert: 5 chunks (role, a, b, c, finish) -> 4 gaps.
    expect(firstByte).toBeGreaterThanOrEqual(140);
    expect(total).toBeGreaterThanOrEqual(150 + 4 * 60 - 20);
  });
});

describe("errors and timeouts", () => {
  it("surfaces a scripted 500 as OpenAI.InternalServerError", async () => {
    // Arrange
    fake.script({ error: { status: 500 } });

    // Act
    const error = await client.chat.completions.create({ model: "gpt-4o", messages: hello }).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect((error as APIError).status).toBe(500);
    expect((error as APIError).type).toBe("server_error");
    expect(fake.requests).toHaveLength(1);
  });

  it("surfaces a scripted 400 body's message, type, param and code", async () => {
    // Arrange
    const body = { error: { message: "Invalid value for 'temperature'.", type: "invalid_request_error", param: "temperature", code: "invalid_value" } };
    fake.script({ error: { status: 400, body } });

    // Act
    const error = await client.chat.completions.create({ model: "gpt-4o", messages: hello, stream: true }).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, type: "invalid_request_error", param: "temperature", code: "invalid_value" });
    expect((error as Error).message).toContain("Invalid value for 'temperature'.");
  });

  it("has the SDK retry a 429 once, honouring retry-after", async () => {
    // Arrange: 0.8 s is longer than the SDK's own first backoff (at most 0.5 s), so the gap proves the header was read.
    fake.script({ error: { status: 429, headers: { "retry-after": "0.8" } } }, "after the retry");
    const retrying = new OpenAI({ baseURL: fake.baseURL, apiKey: "test", maxRetries: 1 });

    // Act
    const completion = await retrying.chat.completions.create({ model: "gpt-4o", messages: hello });

    // Assert
    expect(completion.choices[0]?.message.content).toBe("after the retry");
    expect(fake.requests).toHaveLength(2);
    const [first, second] = fake.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(750);
  });

  it("gives APIConnectionTimeoutError when the model hangs past the SDK's timeout", async () => {
    // Arrange
    fake.script({ hang: true });
    const started = Date.now();

    // Act
    const error = await client.chat.completions.create({ model: "gpt-4o", messages: hello }, { timeout: 200 }).catch((e: unknown) => e);

    // Assert
    expect(error).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("close() cuts a hanging request instead of waiting for it", async () => {
    // Arrange
    const own = await startFakeOpenAI();
    own.script({ hang: true });
    const ownClient = new OpenAI({ baseURL: own.baseURL, apiKey: "test", maxRetries: 0 });
    const pending = ownClient.chat.completions.create({ model: "gpt-4o", messages: hello }).catch((e: unknown) => e);
    await expect.poll(() => own.requests.length).toBe(1);

    // Act
    await own.close();

    // Assert
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it("answers 400 with OpenAI's error body when model or messages are missing", async () => {
    // Act
    const noModel = await post({ messages: hello });
    const noMessages = await post({ model: "gpt-4o" });

    // Assert
    expect(noModel.status).toBe(400);
    expect(await noModel.json()).toEqual({
      error: { message: "you must provide a model parameter", type: "invalid_request_error", param: null, code: null },
    });
    expect(noMessages.status).toBe(400);
    expect(await noMessages.json()).toEqual({
      error: { message: "Missing required parameter: 'messages'.", type: "invalid_request_error", param: "messages", code: "missing_required_parameter" },
    });
  });

  it("does not spend a scripted reply on an invalid request", async () => {
    // Arrange
    fake.script("kept");

    // Act
    await post({ model: "gpt-4o", messages: [] });
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages: hello });

    // Assert
    expect(completion.choices[0]?.message.content).toBe("kept");
  });

  it("checks the API key and the model list when asked to", async () => {
    // Arrange
    const strict = await startFakeOpenAI({ apiKey: "sk-right", models: ["gpt-4o"], rejectUnknownModels: true });
    const wrongKey = new OpenAI({ baseURL: strict.baseURL, apiKey: "sk-wrong", maxRetries: 0 });
    const rightKey = new OpenAI({ baseURL: strict.baseURL, apiKey: "sk-right", maxRetries: 0 });

    try {
      // Act
      const unauthorized = await wrongKey.chat.completions.create({ model: "gpt-4o", messages: hello }).catch((e: unknown) => e);
      const unknown = await rightKey.chat.completions.create({ model: "gpt-5-nano", messages: hello }).catch((e: unknown) => e);
      const known = await rightKey.chat.completions.create({ model: "gpt-4o", messages: hello });

      // Assert
      expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);
      expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
      expect((unknown as APIError).code).toBe("model_not_found");
      expect(known.choices[0]?.message.content).toBe("fake reply to: Hello there");
    } finally {
      await strict.close();
    }
  });
});

describe("scripting", () => {
  it("uses per-model queues first, then the shared FIFO queue, then the default", async () => {
    // Arrange
    fake.script("first", "second");
    fake.scriptFor("phi3.5", "from the SLM");

    // Act
    const ask = async (model: string) =>
      (await client.chat.completions.create({ model, messages: hello })).choices[0]?.message.content;
    const answers = [await ask("gpt-4o"), await ask("phi3.5"), await ask("phi3.5"), await ask("gpt-4o")];

    // Assert
    expect(answers).toEqual(["first", "from the SLM", "second", "fake reply to: Hello there"]);
  });

  it("consults respond() after the queues, falling back to the default on undefined", async () => {
    // Arrange
    fake.respond((request) => (request.model === "phi3.5" ? { content: `SLM saw ${request.lastUserText}` } : undefined));
    fake.script("queued");

    // Act
    const ask = async (model: string) =>
      (await client.chat.completions.create({ model, messages: hello })).choices[0]?.message.content;
    const answers = [await ask("phi3.5"), await ask("phi3.5"), await ask("gpt-4o")];

    // Assert
    expect(answers).toEqual(["queued", "SLM saw Hello there", "fake reply to: Hello there"]);
  });

  it("records every request with method, path, headers, body and time", async () => {
    // Arrange
    const before = Date.now();

    // Act
    await client.chat.completions.create({ model: "gpt-4o", messages: hello, temperature: 0.2 });
    await client.models.list();

    // Assert
    expect(fake.requests).toHaveLength(2);
    const [chat, list] = fake.requests;
    expect(chat).toMatchObject({ method: "POST", path: "/v1/chat/completions", body: { model: "gpt-4o", messages: hello, temperature: 0.2 } });
    expect(chat?.headers.authorization).toBe("Bearer test");
    expect(chat?.at).toBeGreaterThanOrEqual(before);
    expect(list).toMatchObject({ method: "GET", path: "/v1/models", body: undefined });
  });

  it("lists the known models", async () => {
    // Act
    const page = await client.models.list();

    // Assert
    expect(page.data.map((m) => m.id)).toEqual(["llama3.2:3b", "phi3.5", "gpt-4o", "gpt-4.1"]);
    expect(page.data[0]).toMatchObject({ object: "model", owned_by: "fake" });
  });

  it("reset() clears queued replies, the responder and the records", async () => {
    // Arrange
    fake.script("queued");
    fake.scriptFor("gpt-4o", "per model");
    fake.respond(() => "responder");
    await client.models.list();

    // Act
    fake.reset();
    const completion = await client.chat.completions.create({ model: "gpt-4o", messages: hello });

    // Assert
    expect(completion.choices[0]?.message.content).toBe("fake reply to: Hello there");
    expect(fake.requests).toHaveLength(1);
  });
});
