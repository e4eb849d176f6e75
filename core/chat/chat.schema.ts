import { z } from "../shared/zod";

/**
 * The Chat Completions request, as OpenAI defines it (the parts we support). Unknown members are
 * ignored, as OpenAI-compatible servers do; wrong types are 400 with the field named.
 */
const ContentPart = z.looseObject({ type: z.string() });
const Content = z.union([z.string(), z.array(ContentPart)]);
const ToolCallWire = z.object({
  id: z.string(),
  type: z.literal("function"),
  function: z.object({ name: z.string(), arguments: z.string() }),
});

const Message = z.discriminatedUnion("role", [
  z.object({ role: z.literal("system"), content: Content, name: z.string().optional() }),
  z.object({ role: z.literal("developer"), content: Content, name: z.string().optional() }),
  z.object({ role: z.literal("user"), content: Content, name: z.string().optional() }),
  z.object({
    role: z.literal("assistant"),
    content: z.union([Content, z.null()]).optional(),
    name: z.string().optional(),
    tool_calls: z.array(ToolCallWire).optional(),
    refusal: z.string().nullish(),
  }),
  z.object({ role: z.literal("tool"), content: Content, tool_call_id: z.string() }),
]);

const Tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, "must be 1-64 letters, digits, _ or -"),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

/** The most output tokens a request may ask for (about the largest context window of the catalog's models). */
export const MAX_OUTPUT_TOKENS = 1_048_576;

export const ChatCompletionRequest = z
  .object({
    // Bounded: the name is kept in the usage record (a provider prefix of any length would otherwise resolve).
    model: z
      .string()
      .min(1, "must name a model or be \"auto\"")
      .max(256, "must be at most 256 characters")
      .meta({ description: '"auto" routes by complexity; a catalog id or an alias (gpt-4o-mini, openai/gpt-4o, ...) pins' }),
    messages: z.array(Message).min(1, "must contain at least one message"),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
    // Bounded by the largest context window in the catalog: a larger bound would only inflate the budget reservation.
    max_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS).nullish(),
    max_completion_tokens: z.number().int().positive().max(MAX_OUTPUT_TOKENS).nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    top_p: z.number().min(0).max(1).nullish(),
    n: z.literal(1, "only n=1 is supported").nullish(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).nullish(),
    presence_penalty: z.number().min(-2).max(2).nullish(),
    frequency_penalty: z.number().min(-2).max(2).nullish(),
    seed: z.number().int().nullish(),
    user: z.string().max(256).optional(),
    tools: z.array(Tool).max(128).optional(),
    tool_choice: z
      .union([z.enum(["none", "auto", "required"]), z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) })])
      .optional(),
    parallel_tool_calls: z.boolean().optional(),
    response_format: z.looseObject({ type: z.string() }).optional(),
  })
  .meta({ id: "ChatCompletionRequest" });

export type ChatCompletionRequest = z.infer<typeof ChatCompletionRequest>;

const UsageWire = z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() });

export const ChatCompletion = z
  .object({
    id: z.string(),
    object: z.literal("chat.completion"),
    created: z.number(),
    model: z.string(),
    choices: z.array(
      z.object({
        index: z.number(),
        message: z.object({ role: z.literal("assistant"), content: z.string().nullable(), tool_calls: z.array(ToolCallWire).optional(), refusal: z.null() }),
        finish_reason: z.string(),
        logprobs: z.null(),
      }),
    ),
    usage: UsageWire,
    agentorg: z.object({
      tier: z.enum(["slm", "llm"]),
      score: z.number().nullable(),
      threshold: z.number().nullable(),
      reason: z.object({ code: z.string(), detail: z.string() }),
      offline: z.boolean(),
      costUsd: z.number(),
      savingsUsd: z.number(),
      estimated: z.boolean(),
      fallback: z.boolean(),
    }),
  })
  .meta({ id: "ChatCompletion" });

export const RoutingSettings = z
  .strictObject({
    override: z
      .discriminatedUnion("mode", [
        z.strictObject({ mode: z.literal("fixed"), tier: z.enum(["slm", "llm"]) }),
        z.strictObject({
          mode: z.literal("threshold"),
          threshold: z.number().min(0).max(1),
          source: z
            .literal("feedback")
            .optional()
            .meta({ description: "Set by POST /routing/calibrate-from-feedback; a PUT's own threshold has none" }),
        }),
      ])
      .nullish(),
    calibration: z
      .union([z.strictObject({ targetLlmShare: z.number().min(0).max(1) }), z.strictObject({ qualityFloor: z.number().min(0).max(1) })])
      .nullish(),
  })
  .meta({ id: "RoutingSettings" });

export type RoutingSettings = z.infer<typeof RoutingSettings>;
