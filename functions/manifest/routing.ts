import { z } from "../../core/shared/zod";
import { ChatCompletion, ChatCompletionRequest, RoutingSettings } from "../../core/chat/chat.schema";
import { httpRoute } from "../manifest.types";
import { CalibrateFromFeedbackRequest, COMPLETION_ID, Feedback, FeedbackCalibrationReport, FeedbackRequest } from "../../core/chat/feedback.schema";
import { Page, PageQuery } from "./common";

const UsageRecord = z
  .object({
    id: z.string(),
    time: z.string(),
    requestedModel: z.string(),
    model: z.string(),
    tier: z.enum(["slm", "llm"]),
    score: z.number().nullable(),
    threshold: z.number().nullable(),
    reason: z.object({ code: z.string(), detail: z.string() }),
    attempts: z.array(z.object({ model: z.string(), tier: z.string(), ok: z.boolean(), latencyMs: z.number(), error: z.string().optional() })),
    inputTokens: z.number(),
    outputTokens: z.number(),
    costMicroUsd: z.number(),
    baselineMicroUsd: z.number(),
    latencyMs: z.number(),
    offline: z.boolean(),
    estimated: z.boolean(),
    stream: z.boolean(),
    agentId: z.string().optional(),
  })
  .meta({ id: "RoutingDecision" });

const CatalogModel = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number(),
  owned_by: z.string(),
  tier: z.enum(["slm", "llm"]),
  inputUsdPerMTok: z.number(),
  outputUsdPerMTok: z.number(),
  contextWindow: z.number(),
  offline: z.boolean(),
  default: z.boolean(),
  aliases: z.array(z.string()).meta({ description: "Other names that pin this model (gpt-4o-mini, ...)" }),
});
const AliasModel = z.object({
  id: z.string(),
  object: z.literal("model"),
  created: z.number(),
  owned_by: z.string(),
  aliasOf: z.string().nullable().meta({ description: 'The catalog model the name is served by; null for "auto" (routed per query)' }),
});

const ModelList = z
  .object({ object: z.literal("list"), data: z.array(z.union([CatalogModel, AliasModel])) })
  .meta({ id: "ModelList", description: 'OpenAI\'s list shape: the catalog\'s models, then "auto" and every accepted alias' });

const GlobalStats = z
  .object({
    period: z.string(),
    organizations: z.number(),
    queries: z.number(),
    slmQueries: z.number(),
    llmQueries: z.number(),
    slmShare: z.number(),
    inputTokens: z.number(),
    outputTokens: z.number(),
    costUsd: z.number(),
    baselineUsd: z.number(),
    savingsUsd: z.number(),
    models: z.record(z.string(), z.number()),
  })
  .meta({ id: "GlobalRoutingStats" });

export const routingRoutes = {
  chatCompletions: httpRoute({
    method: "POST",
    path: "/api/v1/chat/completions",
    handler: "functions/http/chat-completions.handler",
    auth: "key",
    summary: "OpenAI-compatible chat completions; model \"auto\" routes to an SLM or an LLM by complexity",
    tags: ["routing"],
    body: ChatCompletionRequest,
    response: { status: 200, description: "A completion (JSON), or with stream=true a text/event-stream of chunks", schema: ChatCompletion },
    errors: [
      { status: 404, description: "Unknown model (`unknown_model`; OpenAI's `model_not_found`), naming the accepted names" },
      { status: 502, description: "No model could answer (`model_failed`), the fallback included" },
      { status: 504, description: "No model answered before the deadline (`model_timeout`); once a stream has begun, the same error ends it as its last event" },
    ],
    permissions: ["table:read", "table:write", "connections:manage", "models:keys"],
    openai: true,
    streaming: true,
    streamHandler: "functions/http/chat-completions.stream",
    atLimit:
      "Model calls end before it (docs/deadlines.md): a stream still running then ends with a final " +
      '`data: {"error": {"code": "model_timeout", "status": 504, ...}}` event and the query\'s budget reservation is released; ' +
      "before the first token the answer is a 504 `model_timeout` problem instead.",
  }),
  listModels: httpRoute({
    method: "GET",
    path: "/api/v1/models",
    handler: "functions/http/routing.models",
    auth: "key",
    summary: "The model catalog in OpenAI's list shape (with tier, prices and whether it is offline), then \"auto\" and the accepted aliases",
    tags: ["routing"],
    response: { status: 200, description: "Models", schema: ModelList },
    permissions: [],
    openai: true,
  }),
  routingDecisions: httpRoute({
    method: "GET",
    path: "/api/v1/routing/decisions",
    handler: "functions/http/routing.decisions",
    auth: "key",
    summary: "The organization's recent routing decisions with their cost, newest first",
    tags: ["routing"],
    query: PageQuery,
    response: { status: 200, description: "A page of decisions", schema: Page(UsageRecord, "RoutingDecisionPage") },
    permissions: ["table:read"],
  }),
  routingGlobalStats: httpRoute({
    method: "GET",
    path: "/api/v1/routing/global-stats",
    handler: "functions/http/routing.globalStats",
    auth: "operator",
    summary: "All tenants' routing and cost totals of the current period (operator)",
    tags: ["routing"],
    response: { status: 200, description: "Totals", schema: GlobalStats },
    permissions: ["table:read"],
  }),
  getRoutingSettings: httpRoute({
    method: "GET",
    path: "/api/v1/routing/settings",
    handler: "functions/http/routing.getSettings",
    auth: "key",
    summary: "The organization's routing override and calibration",
    tags: ["routing"],
    response: { status: 200, description: "Settings", schema: RoutingSettings },
    permissions: ["table:read"],
  }),
  putRoutingSettings: httpRoute({
    method: "PUT",
    path: "/api/v1/routing/settings",
    handler: "functions/http/routing.putSettings",
    auth: "key",
    summary: "Override the industry default (fixed tier or threshold) or calibrate (target LLM share or quality floor)",
    tags: ["routing"],
    body: RoutingSettings,
    response: { status: 200, description: "Settings", schema: RoutingSettings },
    permissions: ["table:write"],
  }),
  completionFeedback: httpRoute({
    method: "POST",
    path: "/api/v1/chat/completions/{id}/feedback",
    handler: "functions/http/routing.feedback",
    auth: "key",
    summary:
      "Feedback on one of the organization's completions (thumbs up or down, whether it needed the large model); " +
      "a second one replaces it, the same one again changes nothing",
    tags: ["routing"],
    // A completion id of another shape cannot exist: 404 like an unknown or another organization's one.
    params: z.object({ id: z.string().regex(COMPLETION_ID).meta({ description: "The completion's `id` (`chatcmpl-...`)" }) }),
    body: FeedbackRequest,
    response: {
      status: 200,
      description: "The stored feedback, with the decision it rates read from the completion's cost record; `changed` false when it was already so",
      schema: Feedback.extend({ changed: z.boolean() }).meta({ id: "FeedbackResult" }),
    },
    errors: [{ status: 404, description: "No completion of the organization has that id (`not_found`), another organization's included" }],
    permissions: ["table:read", "table:write"],
  }),
  listFeedback: httpRoute({
    method: "GET",
    path: "/api/v1/routing/feedback",
    handler: "functions/http/routing.listFeedback",
    auth: "key",
    summary: "The organization's feedback on its completions, newest completion first",
    tags: ["routing"],
    query: PageQuery,
    response: { status: 200, description: "A page of feedback", schema: Page(Feedback, "FeedbackPage") },
    permissions: ["table:read"],
  }),
  calibrateFromFeedback: httpRoute({
    method: "POST",
    path: "/api/v1/routing/calibrate-from-feedback",
    handler: "functions/http/routing-calibration.calibrateFromFeedback",
    auth: "key",
    summary:
      "Adjust the organization's threshold to its own feedback (bounded, see README) and report how much it moved; " +
      "stored as a threshold override with source \"feedback\" unless dryRun",
    tags: ["routing"],
    body: CalibrateFromFeedbackRequest,
    response: { status: 200, description: "The calibration report", schema: FeedbackCalibrationReport },
    errors: [
      { status: 409, description: "Routing is off (`routing_fixed_tier`), or the settings changed meanwhile (`routing_settings_changed`)" },
    ],
    permissions: ["table:read", "table:write"],
  }),
} as const;
