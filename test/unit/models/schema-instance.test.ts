import { describe, expect, it } from "vitest";
import { z } from "zod";
import { DEFAULT_MODELS } from "../../../core/models/catalog";
import { createOfflineProvider, OFFLINE_PREFIX } from "../../../core/models/offline-provider";
import type { ProviderRequest, StreamEvent } from "../../../core/models/provider";
import { MAX_DEPTH, SchemaUnsatisfiable, schemaInstance } from "../../../core/models/schema-instance";
import { isDomainError } from "../../../core/errors";

/** Every instance is checked by an independent validator: zod's own JSON Schema reader. */
const accepts = (schema: object, value: unknown) => z.fromJSONSchema(schema as never).safeParse(value).success;

const SCHEMAS: [string, object][] = [
  ["required properties only, of every type", {
    type: "object",
    properties: { s: { type: "string" }, n: { type: "number" }, i: { type: "integer" }, b: { type: "boolean" }, z: { type: "null" }, skipped: { type: "string" } },
    required: ["s", "n", "i", "b", "z"],
    additionalProperties: false,
  }],
  ["enums and consts", { type: "object", properties: { unit: { type: "string", enum: ["celsius", "fahrenheit"] }, v: { const: 2 } }, required: ["unit", "v"] }],
  ["nested objects and arrays with minItems", {
    type: "object",
    properties: { rows: { type: "array", minItems: 2, items: { type: "object", properties: { id: { type: "integer", minimum: 5 } }, required: ["id"] } } },
    required: ["rows"],
  }],
  ["numeric bounds and multipleOf", { type: "object", properties: { a: { type: "integer", exclusiveMinimum: 10 }, b: { type: "number", maximum: -3 }, c: { type: "integer", minimum: 7, multipleOf: 5 } }, required: ["a", "b", "c"] }],
  ["string lengths and formats", { type: "object", properties: { short: { type: "string", maxLength: 4 }, long: { type: "string", minLength: 40 }, when: { type: "string", format: "date-time" }, mail: { type: "string", format: "email" } }, required: ["short", "long", "when", "mail"] }],
  ["nullable unions (strict mode optional fields)", { type: "object", properties: { note: { anyOf: [{ type: "string" }, { type: "null" }] }, t: { type: ["integer", "null"] } }, required: ["note", "t"], additionalProperties: false }],
  ["$defs references", { type: "object", properties: { a: { $ref: "#/$defs/addr" } }, required: ["a"], $defs: { addr: { type: "object", properties: { city: { type: "string", minLength: 2 } }, required: ["city"] } } }],
  ["a recursive type that does not require itself", { $ref: "#/$defs/node", $defs: { node: { type: "object", properties: { children: { type: "array", items: { $ref: "#/$defs/node" } } }, required: ["children"] } } }],
  ["allOf of objects", { allOf: [{ type: "object", properties: { a: { type: "string" } }, required: ["a"] }, { type: "object", properties: { b: { type: "boolean" } }, required: ["b"] }] }],
  ["a pattern the label happens to meet", { type: "object", properties: { tag: { type: "string", pattern: "^\\[" } }, required: ["tag"] }],
  ["a schema from zod (what the SDK's zodResponseFormat sends)", z.toJSONSchema(z.object({ city: z.string(), days: z.array(z.object({ high: z.number().min(-90).max(60), kind: z.enum(["sun", "rain"]) })).min(1), note: z.string().nullable() }))],
];

describe("schemaInstance", () => {
  it.each(SCHEMAS)("%s: the instance satisfies the schema", (_name, schema) => {
    const value = schemaInstance(schema, OFFLINE_PREFIX);

    expect(accepts(schema, value)).toBe(true);
    // The validator is not vacuous: a value of the wrong kind is refused.
    expect(accepts(schema, 42)).toBe(false);
  });

  it("labels free strings with the offline mark", () => {
    expect(schemaInstance({ type: "object", properties: { answer: { type: "string" } }, required: ["answer"] }, OFFLINE_PREFIX)).toEqual({ answer: OFFLINE_PREFIX });
  });

  it.each([
    ["a pattern it cannot meet", { type: "string", pattern: "^[0-9]{3}$" }, /matching/],
    ["an empty enum", { enum: [] }, /empty enum/],
    ["contradictory bounds", { type: "integer", minimum: 5, maximum: 3 }, /bounds/],
    ["not", { not: { type: "string" } }, /not/],
    ["a required property additionalProperties forbids", { type: "object", required: ["x"], additionalProperties: false }, /not allowed/],
    ["a type that requires itself", { $ref: "#/$defs/n", $defs: { n: { type: "object", properties: { next: { $ref: "#/$defs/n" } }, required: ["next"] } } }, new RegExp(`deeper than ${MAX_DEPTH}`)],
    ["a missing $ref", { $ref: "#/$defs/nope" }, /\$ref/],
  ])("refuses %s", (_name, schema, reason) => {
    expect(() => schemaInstance(schema, OFFLINE_PREFIX)).toThrow(SchemaUnsatisfiable);
    expect(() => schemaInstance(schema, OFFLINE_PREFIX)).toThrow(reason);
  });
});

const request = (params: Record<string, unknown>): ProviderRequest => ({
  model: DEFAULT_MODELS[0]!,
  messages: [{ role: "user", content: "weather in Paris?" }],
  maxTokens: 256,
  params,
});
const weather = { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" }, unit: { enum: ["c", "f"] } }, required: ["city", "unit"] } } };
const other = { type: "function", function: { name: "other", parameters: { type: "object", properties: {} } } };

describe("the offline responder honours the request's shape", () => {
  it("a forced function: a call to it with arguments its schema accepts", async () => {
    const result = await createOfflineProvider().complete(request({ tools: [other, weather], tool_choice: { type: "function", function: { name: "get_weather" } } }));

    expect(result.finishReason).toBe("tool_calls");
    expect(result.content).toBeNull();
    expect(result.toolCalls).toHaveLength(1);
    expect(result.toolCalls[0]!.function.name).toBe("get_weather");
    expect(JSON.parse(result.toolCalls[0]!.function.arguments)).toEqual({ city: OFFLINE_PREFIX, unit: "c" });
  });

  it('tool_choice "required": a call to the first tool', async () => {
    const result = await createOfflineProvider().complete(request({ tools: [weather, other], tool_choice: "required" }));

    expect(result.toolCalls[0]!.function.name).toBe("get_weather");
  });

  it('tools offered with tool_choice "auto": the labelled text (a model may always answer without a tool)', async () => {
    const result = await createOfflineProvider().complete(request({ tools: [weather], tool_choice: "auto" }));

    expect(result.toolCalls).toEqual([]);
    expect(result.content).toMatch(/^\[offline responder\]/);
  });

  it("json_object: a JSON object holding the labelled notice", async () => {
    const result = await createOfflineProvider().complete(request({ response_format: { type: "json_object" } }));

    expect(JSON.parse(result.content!)).toMatchObject({ offline: true, message: expect.stringMatching(/^\[offline responder\]/) });
  });

  it("json_schema: JSON the schema accepts", async () => {
    const schema = SCHEMAS[2]![1];
    const result = await createOfflineProvider().complete(request({ response_format: { type: "json_schema", json_schema: { name: "x", schema } } }));

    expect(accepts(schema, JSON.parse(result.content!))).toBe(true);
  });

  it("streams a forced call as OpenAI does: id and name first, then the arguments", async () => {
    const events: StreamEvent[] = [];
    for await (const event of createOfflineProvider().stream(request({ tools: [weather], tool_choice: "required" }))) events.push(event);

    expect(events[0]).toMatchObject({ type: "delta", toolCalls: [{ index: 0, id: expect.stringMatching(/^call_offline_/), name: "get_weather", arguments: "" }] });
    expect(events[1]).toMatchObject({ type: "delta", toolCalls: [{ index: 0, arguments: JSON.stringify({ city: OFFLINE_PREFIX, unit: "c" }) }] });
    expect(events.at(-1)).toMatchObject({ type: "done", result: { finishReason: "tool_calls" } });
  });

  it.each([
    ["an unsatisfiable tool schema", { tools: [{ type: "function", function: { name: "f", parameters: { type: "object", properties: { id: { type: "string", pattern: "^[0-9]+$" } }, required: ["id"] } } }], tool_choice: "required" }, "tools"],
    ["an unsatisfiable response schema", { response_format: { type: "json_schema", json_schema: { name: "x", schema: { enum: [] } } } }, "response_format"],
    ["a forced function that is not offered", { tools: [weather], tool_choice: { type: "function", function: { name: "nope" } } }, "tool_choice"],
  ])("refuses %s with a 400 naming the parameter", async (_name, params, param) => {
    const error = await createOfflineProvider().complete(request(params)).catch((e: unknown) => e);

    expect(isDomainError(error)).toBe(true);
    expect(error).toMatchObject({ kind: "invalid_input", code: "offline_unsatisfiable", details: { errors: [{ field: param }] } });
  });
});
