import { createChunkWriter, toChatCompletion } from "../../core/chat/openai-format";
import { chat as chatService } from "../lib/services/chat";
import { catalog } from "../lib/services/routing";
import { lambdaStreaming, streamingHttp } from "../lib/streaming";
import { routingRoutes as routes } from "../manifest/routing";

/**
 * OpenAI-compatible chat completions. The routing decision is in the response headers
 * (`x-agentorg-model`, `-tier`, `-score`) and in the body's `agentorg` member; for a stream the
 * headers carry the planned model, and each chunk names the model that actually answered.
 */
export const handler = streamingHttp(routes.chatCompletions, async ({ principal, org, body, requestId, rateLimits, deadline }, sink) => {
  const chat = chatService();
  // The function's own deadline bounds the model calls (core/shared/deadline.ts).
  // A key restricted to some models (its `models`) may request only those here.
  const allowedModels = principal.kind === "org" ? principal.models : undefined;
  const plan = await chat.plan(principal, body, { ...(org ? { org } : {}), ...(deadline !== undefined ? { deadline } : {}), ...(allowedModels ? { allowedModels } : {}) });
  // Requests and tokens a minute join the request's own limits in the RateLimit headers.
  rateLimits.push(...plan.rateLimits);
  // The completion is named after its cost record, so feedback on it finds the decision it rates.
  const id = `chatcmpl-${plan.recordId}`;
  const created = Math.floor(Date.now() / 1000);
  const headers = (model: string, tier: string) => ({
    "x-request-id": requestId,
    "x-agentorg-model": model,
    "x-agentorg-tier": tier,
    "x-agentorg-score": plan.score === null ? "" : plan.score.toFixed(4),
    "x-agentorg-offline": String(catalog().isOffline(tier as "slm" | "llm")),
  });

  if (!body.stream) {
    const { result, record } = await chat.complete(plan);
    sink.head(200, { "content-type": "application/json", ...headers(record.model, record.tier) });
    sink.write(JSON.stringify(toChatCompletion(id, created, result, record)));
    sink.end();
    return;
  }

  const writer = createChunkWriter(id, created, plan.model.id, body.stream_options?.include_usage === true);
  const events = chat.stream(plan);
  // The head goes out with the first event, so a failure before any token is still a plain problem response.
  let next = await events.next();
  sink.head(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...headers(plan.model.id, plan.model.tier) });
  let result;
  try {
    while (!next.done) {
      const event = next.value;
      if (event.type === "delta") sink.write(writer.delta(event));
      else if (event.type === "done") result = event.result;
      else if (result) sink.write(writer.finish(result, event.record));
      next = await events.next();
    }
  } finally {
    // Stopped early (a write threw): closing the stream releases its budget reservation.
    if (!next.done) await events.return(undefined);
  }
  sink.end();
});

/** The same handler for a Lambda function URL with response streaming (the stacks deploy both). */
export const stream = lambdaStreaming(handler);
