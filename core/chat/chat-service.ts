import { DomainError, forbidden, invalidInput, notFound, quotaExceeded } from "../errors";
import { newId } from "../ids";
import type { Principal } from "../auth/principal";
import type { ModelCatalog, ModelSpec } from "../models/catalog";
import { costMicroUsd, inputTokenEstimate, inputTokenUpperBound } from "../models/cost";
import type { LimitState } from "../ratelimit/limiter";
import { type ChatProvider, type ProviderRequest, type ProviderResult, ProviderError, type StreamEvent, type WireMessage } from "../models/provider";
import type { Attempt, MeteringStore, RoutingSettingsStore, UsageRecord } from "../metering/ports";
import type { Classifier } from "../routing/classifier";
import { type EventPublisher, eventsFor, noEvents } from "../realtime/events";
import { decide } from "../routing/policy";
import { type Clock, periodOf, periodResetsAt, systemClock } from "../shared/clock";
import type { Organization } from "../tenants/organization.schema";
import { modelBudgetOf } from "../tenants/organizations";
import type { OrganizationStore } from "../tenants/ports";
import type { ChatCompletionRequest, RoutingSettings } from "./chat.schema";

export interface ChatServiceDeps {
  catalog: ModelCatalog;
  providers: { slm: ChatProvider; llm: ChatProvider };
  classifier: Classifier;
  metering: MeteringStore;
  settings: RoutingSettingsStore;
  orgs: OrganizationStore;
  /** `usage.updated` after each metered query, for live dashboards. */
  events?: EventPublisher;
  /**
   * Chat requests and tokens per minute (core/ratelimit/rate-limits.ts): admits a call of `tokens`
   * estimated tokens or throws 429 `rate_limited`. Absent: no chat rate limits.
   */
  limits?: { admitChat(org: Organization, tokens: number): Promise<LimitState[]> };
  clock?: Clock;
}

/** Everything decided before a model is called. */
export interface Plan {
  org: Organization;
  model: ModelSpec;
  score: number | null;
  threshold: number | null;
  reason: { code: string; detail: string };
  request: ProviderRequest;
  reservedMicroUsd: number;
  period: string;
  started: number;
  requestedModel: string;
  agentId?: string;
  /** The chat rate limits this call was admitted under, for the RateLimit headers. */
  rateLimits: LimitState[];
  /** Where `usage.updated` goes: the organization's subscribers, read while the plan was made. */
  events?: EventPublisher;
}

/** The outcome of a query, with its record (also stored). */
export interface Outcome {
  result: ProviderResult;
  record: UsageRecord;
}

const MICRO = 1_000_000;
const PASSTHROUGH = ["temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed", "user", "tools", "tool_choice", "parallel_tool_calls", "response_format"] as const;

/**
 * Hybrid routing and metering of chat completions: score the query, decide SLM or LLM by the
 * organization's policy, reserve budget atomically, call the model (falling back to the other tier on
 * failure, each attempt recorded), then settle the real cost and record the decision.
 */
export function createChatService({ catalog, providers, classifier, metering, settings, orgs, events = noEvents, limits, clock = systemClock }: ChatServiceDeps) {
  const announce = (p: Plan, record: UsageRecord) =>
    (p.events ?? events).publish({
      type: "usage.updated",
      orgId: record.orgId,
      time: record.time,
      data: { recordId: record.id, model: record.model, tier: record.tier, costMicroUsd: record.costMicroUsd, baselineMicroUsd: record.baselineMicroUsd, agentId: record.agentId ?? null },
    });
  const providerOf = (model: ModelSpec) => providers[model.tier];

  /**
   * Everything decided before a model is called, in one round of parallel writes and reads: the
   * routing settings, the chat rate limits and the budget reservation do not wait for one another.
   * That is what lets the reservation be made before the routing decision: it covers the most the
   * query can cost on any model it may go to (either tier's default for `auto`, else the pinned model
   * and its fallback), and the token limit counts the larger output bound. A call refused by either
   * check releases the reservation the other made. `options.org` is the organization as the caller's
   * authentication read it (no second read); without it, it is read first.
   */
  async function plan(
    principal: Principal,
    body: ChatCompletionRequest,
    options: { agentId?: string; routingOff?: { tier: "slm" | "llm" }; org?: Organization } = {},
  ): Promise<Plan> {
    if (principal.kind !== "org") throw forbidden("Chat completions are made on behalf of an organization: use its API key.", "org_key_required");
    const org = options.org?.id === principal.orgId ? options.org : await orgs.get(principal.orgId);
    if (!org) throw notFound("Organization", principal.orgId);

    const pinned = body.model === "auto" ? undefined : catalog.get(body.model);
    if (body.model !== "auto" && !pinned) {
      throw invalidInput(`Unknown model '${body.model}'.`, [{ field: "model", message: `must be "auto" or one of: ${catalog.models.map((m) => m.id).join(", ")}` }], "unknown_model");
    }
    const candidates = pinned ? [pinned, catalog.fallbackFor(pinned)] : [catalog.defaultOf("slm"), catalog.defaultOf("llm")];
    const requestedMaxTokens = body.max_completion_tokens ?? body.max_tokens ?? catalog.settings.defaultMaxTokens;
    const maxTokensOf = (model: ModelSpec) => Math.min(requestedMaxTokens, model.contextWindow);
    const outputBound = Math.max(...candidates.map(maxTokensOf));
    const inputBound = inputTokenUpperBound(body.messages, body.tools);
    // Whichever candidate answers, with up to its own output bound (the fallback answers with the
    // planned model's bound, so every pair is covered).
    const reservedMicroUsd = Math.max(...candidates.flatMap((m) => candidates.map((c) => costMicroUsd(c, inputBound, maxTokensOf(m)))));
    const now = clock.now();
    const period = periodOf(now);
    const budgetUsd = modelBudgetOf(org);

    const routingOn = body.model === "auto" && !options.routingOff;
    const audience = eventsFor(events, org.id);
    const [routingRead, admitted, reserved] = await Promise.allSettled([
      routingOn ? settings.get(principal.orgId) : Promise.resolve<RoutingSettings>({}),
      // Tokens per minute count the estimated input plus the output bound, as OpenAI counts them.
      limits ? limits.admitChat(org, inputTokenEstimate(body.messages, body.tools) + outputBound) : Promise.resolve<LimitState[]>([]),
      metering.reserve(org.id, period, reservedMicroUsd, Math.round(budgetUsd * MICRO)),
    ]);
    const refusal = routingRead.status === "rejected" ? routingRead.reason : admitted.status === "rejected" ? admitted.reason : reserved.status === "rejected" ? reserved.reason : undefined;
    if (refusal !== undefined) {
      if (reserved.status === "fulfilled" && reserved.value) await metering.release(org.id, period, reservedMicroUsd).catch(() => undefined);
      throw refusal;
    }
    if (!(reserved as PromiseFulfilledResult<boolean>).value) {
      throw quotaExceeded(
        `The organization's monthly model budget of $${budgetUsd} would be exceeded by this query (up to $${(reservedMicroUsd / MICRO).toFixed(4)}).`,
        "budget_exceeded",
        { limit: org.spendLimitUsd != null && org.spendLimitUsd < org.quotas.modelBudgetUsd ? "spendLimitUsd" : "modelBudgetUsd", limitUsd: budgetUsd, period, resetsAt: periodResetsAt(now) },
      );
    }
    const routing = (routingRead as PromiseFulfilledResult<RoutingSettings>).value;
    const rateLimits = (admitted as PromiseFulfilledResult<LimitState[]>).value;

    let model: ModelSpec;
    let score: number | null = null;
    let threshold: number | null = null;
    let reason: { code: string; detail: string };
    if (pinned) {
      model = pinned;
      reason = { code: "pinned", detail: `model ${pinned.id} requested` };
    } else {
      score = classifier.score(body.messages.map((m) => ({ role: m.role, content: textOf(m.content) })));
      const override = options.routingOff ? { mode: "fixed" as const, tier: options.routingOff.tier } : routing.override ?? undefined;
      const decision = decide({
        score,
        industry: org.industry,
        ...(override ? { override } : {}),
        ...(!override && routing.calibration ? { calibration: routing.calibration } : {}),
      });
      model = catalog.defaultOf(decision.tier);
      threshold = decision.threshold;
      reason = decision.reason;
    }

    const params: Record<string, unknown> = {};
    for (const name of PASSTHROUGH) if (body[name] !== undefined && body[name] !== null) params[name] = body[name];
    const request: ProviderRequest = { model, messages: body.messages as WireMessage[], maxTokens: maxTokensOf(model), params };
    return { org, model, score, threshold, reason, request, reservedMicroUsd, period, started: Date.now(), requestedModel: body.model, rateLimits, events: audience, ...(options.agentId ? { agentId: options.agentId } : {}) };
  }

  function toRecord(p: Plan, model: ModelSpec, result: ProviderResult, attempts: Attempt[], stream: boolean): UsageRecord {
    const baseline = catalog.defaultOf("llm");
    return {
      id: newId(),
      orgId: p.org.id,
      time: clock.now().toISOString(),
      requestedModel: p.requestedModel,
      model: model.id,
      tier: model.tier,
      score: p.score,
      threshold: p.threshold,
      reason: attempts.length > 1 ? { code: "fallback", detail: `${p.reason.detail}; ${attempts[0]!.model} failed (${attempts[0]!.error}), fell back to ${model.id}` } : p.reason,
      attempts,
      inputTokens: result.usage.inputTokens,
      outputTokens: result.usage.outputTokens,
      costMicroUsd: costMicroUsd(model, result.usage.inputTokens, result.usage.outputTokens),
      baselineMicroUsd: costMicroUsd(baseline, result.usage.inputTokens, result.usage.outputTokens),
      latencyMs: Date.now() - p.started,
      offline: providerOf(model).offline,
      estimated: result.estimated || providerOf(model).offline,
      stream,
      ...(p.agentId ? { agentId: p.agentId } : {}),
    };
  }

  async function fail(p: Plan, attempts: Attempt[], last: unknown): Promise<never> {
    await metering.release(p.org.id, p.period, p.reservedMicroUsd);
    const error = last instanceof ProviderError ? last : new ProviderError("failed", String(last));
    const tried = attempts.map((a) => `${a.model}: ${a.error}`).join("; ");
    throw new DomainError(
      error.kind === "timeout" ? "upstream_timeout" : "upstream_failed",
      error.kind === "timeout" ? "model_timeout" : "model_failed",
      `No model could answer (${tried}).`,
      { attempts },
    );
  }

  return {
    plan,

    /** A whole answer: the planned model, else the other tier's default. */
    async complete(p: Plan): Promise<Outcome> {
      const attempts: Attempt[] = [];
      let last: unknown;
      for (const model of [p.model, catalog.fallbackFor(p.model)]) {
        const started = Date.now();
        try {
          const result = await providerOf(model).complete({ ...p.request, model });
          attempts.push({ model: model.id, tier: model.tier, ok: true, latencyMs: Date.now() - started });
          const record = toRecord(p, model, result, attempts, false);
          await metering.settle(p.period, p.reservedMicroUsd, record);
          await announce(p, record);
          return { result, record };
        } catch (error) {
          last = error;
          attempts.push({ model: model.id, tier: model.tier, ok: false, latencyMs: Date.now() - started, error: error instanceof Error ? error.message : String(error) });
        }
      }
      return fail(p, attempts, last);
    },

    /**
     * A streamed answer. Falls back only while nothing has been streamed yet: once a client has seen
     * tokens of one model, switching models mid-answer would corrupt it, so a later failure ends the
     * stream with an error instead.
     */
    async *stream(p: Plan): AsyncGenerator<StreamEvent | { type: "record"; record: UsageRecord }> {
      const attempts: Attempt[] = [];
      let last: unknown;
      // Settled or released: until then the reservation is open, and a consumer that stops reading
      // (a client gone, a write that threw) must not leave it counted against the budget.
      let closed = false;
      try {
        for (const model of [p.model, catalog.fallbackFor(p.model)]) {
          const started = Date.now();
          let streamed = false;
          try {
            for await (const event of providerOf(model).stream({ ...p.request, model })) {
              if (event.type === "delta") {
                streamed = true;
                yield event;
              } else {
                attempts.push({ model: model.id, tier: model.tier, ok: true, latencyMs: Date.now() - started });
                const record = toRecord(p, model, event.result, attempts, true);
                closed = true;
                await metering.settle(p.period, p.reservedMicroUsd, record);
                await announce(p, record);
                yield event;
                yield { type: "record", record };
                return;
              }
            }
            throw new ProviderError("failed", "The model's stream ended without a result.");
          } catch (error) {
            last = error;
            attempts.push({ model: model.id, tier: model.tier, ok: false, latencyMs: Date.now() - started, error: error instanceof Error ? error.message : String(error) });
            if (streamed) break;
          }
        }
        closed = true;
        await fail(p, attempts, last);
      } finally {
        if (!closed) await metering.release(p.org.id, p.period, p.reservedMicroUsd).catch(() => undefined);
      }
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;


/** The text of a message's content (string or text parts), for the classifier. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : "")).join(" ");
  return "";
}

export { MICRO };
