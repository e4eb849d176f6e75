import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { zodFunction, zodResponseFormat } from "openai/helpers/zod";
import { z } from "zod";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

/**
 * No model endpoint at all (a fresh machine): the offline responder answers, through the official
 * `openai` SDK, in the shape the request asks for (a forced tool call, JSON, JSON a schema accepts),
 * labelled offline, never billed; or refuses with a 400 the SDK shows.
 */
let platform: Platform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const sdk = (key: string) => new OpenAI({ baseURL: platform.apiUrl, apiKey: key, maxRetries: 0 });
const ask = (content: string) => [{ role: "user" as const, content }];
const Weather = z.object({ city: z.string(), unit: z.enum(["celsius", "fahrenheit"]), days: z.number().int().min(1).max(7) });
const weatherTool = zodFunction({ name: "get_weather", parameters: Weather });

describe("the offline responder honours the request's shape", () => {
  it("a forced tool call comes back as a tool call whose arguments the SDK parses with the tool's schema", async () => {
    const { key } = await createTenant(platform);

    const { data, response } = await sdk(key)
      .chat.completions.parse({ model: "auto", messages: ask("weather in Paris?"), tools: [weatherTool], tool_choice: { type: "function", function: { name: "get_weather" } } })
      .withResponse();

    const message = data.choices[0]!.message;
    expect(data.choices[0]!.finish_reason).toBe("tool_calls");
    expect(message.tool_calls).toHaveLength(1);
    const toolCall = message.tool_calls![0]! as { function: { name: string; parsed_arguments: unknown } };
    expect(toolCall.function.name).toBe("get_weather");
    expect(toolCall.function.parsed_arguments).toEqual({ city: "[offline responder]", unit: "celsius", days: 1 });
    expect(response.headers.get("x-agentorg-offline")).toBe("true");
    expect((data as unknown as { agentorg: { offline: boolean } }).agentorg.offline).toBe(true);
  });

  it('tool_choice "required" works when streaming too: the SDK assembles the call', async () => {
    const { key } = await createTenant(platform);

    const stream = sdk(key).chat.completions.stream({ model: "auto", messages: ask("weather?"), tools: [weatherTool], tool_choice: "required" });
    const final = await stream.finalChatCompletion();

    const toolCall = final.choices[0]!.message.tool_calls![0]! as { id: string; function: { name: string; arguments: string } };
    expect(final.choices[0]!.finish_reason).toBe("tool_calls");
    expect(toolCall.id).toMatch(/^call_offline_/);
    expect(Weather.parse(JSON.parse(toolCall.function.arguments))).toEqual({ city: "[offline responder]", unit: "celsius", days: 1 });
  });

  it("json_object returns content that parses as JSON, saying it is offline", async () => {
    const { key } = await createTenant(platform);

    const data = await sdk(key).chat.completions.create({ model: "gpt-4o-mini", messages: ask("answer in json"), response_format: { type: "json_object" } });

    expect(JSON.parse(data.choices[0]!.message.content!)).toMatchObject({ offline: true, message: expect.stringMatching(/^\[offline responder\]/) });
  });

  it("json_schema: the SDK's parse() gets an object its zod schema accepts", async () => {
    const { key } = await createTenant(platform);
    const Report = z.object({ summary: z.string(), items: z.array(z.object({ name: z.string(), score: z.number().min(0).max(10) })), tags: z.array(z.string()), note: z.string().nullable() });

    const data = await sdk(key).chat.completions.parse({ model: "auto", messages: ask("report"), response_format: zodResponseFormat(Report, "report") });

    expect(data.choices[0]!.message.parsed).toEqual({ summary: "[offline responder]", items: [], tags: [], note: "[offline responder]" });
  });

  it("json_schema streamed: the chunks join into JSON the schema accepts", async () => {
    const { key } = await createTenant(platform);
    const Answer = z.object({ answer: z.string(), confidence: z.number().min(0.5).max(1) });

    const stream = sdk(key).chat.completions.stream({ model: "auto", messages: ask("q"), response_format: zodResponseFormat(Answer, "answer") });
    const final = await stream.finalChatCompletion();

    expect(final.choices[0]!.message.parsed).toEqual({ answer: "[offline responder]", confidence: 0.5 });
  });

  it("a schema it cannot satisfy is a 400 the SDK shows (offline_unsatisfiable, param named), not text that breaks the client", async () => {
    const { key } = await createTenant(platform);
    const tools = [{ type: "function" as const, function: { name: "lookup", parameters: { type: "object", properties: { sku: { type: "string", pattern: "^[0-9]{8}$" } }, required: ["sku"] } } }];

    const error = await sdk(key).chat.completions.create({ model: "auto", messages: ask("find it"), tools, tool_choice: "required" }).catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);
    const streamed = await sdk(key).chat.completions.create({ model: "auto", messages: ask("find it"), tools, tool_choice: "required", stream: true }).catch((e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

    for (const e of [error, streamed] as InstanceType<typeof OpenAI.APIError>[]) {
      expect(e).toBeInstanceOf(OpenAI.BadRequestError);
      expect(e.code).toBe("offline_unsatisfiable");
      expect(e.param).toBe("tools");
      expect(e.message).toMatch(/^400 The offline responder cannot answer this request: its JSON schema cannot be satisfied \(sku: cannot produce a string matching/);
    }
  });
});

describe("errors the SDK shows with no model configured", () => {
  it("a bad key and an unknown model say what is wrong in e.error.message", async () => {
    const { key } = await createTenant(platform);
    const fail = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as InstanceType<typeof OpenAI.APIError>);

    const badKey = await fail(sdk("sk-not-ours").chat.completions.create({ model: "auto", messages: ask("hi") }));
    const unknown = await fail(sdk(key).chat.completions.create({ model: "gpt-17", messages: ask("hi") }));

    expect(badKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(badKey!.error).toMatchObject({ message: "The API key is not valid.", code: "invalid_api_key" });
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown!.error as { message: string }).message).toMatch(/^The model 'gpt-17' does not exist here\. Use "auto", a catalog model \(llama-3\.2-3b, /);
  });
});

describe("offline answers are not billed", () => {
  it("cost nothing and reserve nothing: counted as offline queries, with no spend and no savings", async () => {
    const { org, key } = await createTenant(platform);
    // A budget no real query could fit: offline answers still pass, since they hold nothing against it.
    const capped = await call(platform, `/organizations/${org.id}`, { method: "PATCH", key, body: { spendLimitUsd: 0 } });
    expect(capped.status).toBe(200);

    const data = await sdk(key).chat.completions.create({ model: "gpt-4o", messages: ask("hello"), max_tokens: 4000 });
    await sdk(key).chat.completions.create({ model: "auto", messages: ask("hello again"), stream: true }).then(async (s) => {
      for await (const _ of s);
    });
    const usage = await call(platform, `/organizations/${org.id}/usage`, { key });
    const decisions = await call(platform, "/routing/decisions", { key });

    expect((data as unknown as { agentorg: { costUsd: number; savingsUsd: number; offline: boolean } }).agentorg).toMatchObject({ costUsd: 0, savingsUsd: 0, offline: true });
    expect(usage.body).toMatchObject({ queries: { total: 2, offline: 2 }, costUsd: 0, savingsUsd: 0, modelSpendUsd: { used: 0 } });
    expect(decisions.body.items.map((r: { costMicroUsd: number; baselineMicroUsd: number; offline: boolean }) => [r.costMicroUsd, r.baselineMicroUsd, r.offline])).toEqual([
      [0, 0, true],
      [0, 0, true],
    ]);
  });
});
