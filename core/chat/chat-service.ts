import { DomainError, forbidden, isDomainError, notFound, quotaExceeded } from "../errors";
import { newId } from "../ids";
import type { Principal } from "../auth/principal";
import { allowsModel, type ModelCatalog, type ModelSpec } from "../models/catalog";
import { costMicroUsd, inputTokenEstimate, inputTokenUpperBound } from "../models/cost";
import type { LimitState } from "../ratelimit/limiter";
import { type ChatProvider, type ProviderRequest, type ProviderResult, ProviderError, type StreamEvent, type WireMessage } from "../models/provider";
import type { Attempt, MeteringStore, Reservation, ReserveOutcome, RoutingSettingsStore, UsageRecord } from "../metering/ports";
import type { Classifier } from "../routing/classifier";
import { type EventPublisher, eventsFor, noEvents } from "../realtime/events";
import { decide } from "../routing/policy";
import { type Clock, periodOf, periodResetsAt, systemClock } from "../shared/clock";
import { attemptBudget, reservationExpiry } from "../shared/deadline";
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
  /**
   * The id of the query's cost record, chosen before the model is called so that the completion's id
   * (`chatcmpl-<recordId>`, known before a stream's first chunk) names its record: feedback on a
   * completion finds the decision it rates by it.
   */
  recordId: string;
  org: Organization;
  model: ModelSpec;
  score: number | null;
  threshold: number | null;
  reason: { code: string; detail: string };
  request: ProviderRequest;
  /** The budget held for this query until it is settled or released. */
  reservation: Reservation;
  reservedMicroUsd: number;
  period: string;
  started: number;
  /**
   * When the invocation ends (epoch ms): every model attempt, the SDK's retries included, ends early
   * enough to settle before it. Absent: only the configured per-call timeout bounds a call.
   */
  deadline?: number;
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
   * What a query on `model` costs: nothing when its tier is the offline responder (no model ran, so
   * nothing is billed or held against the budget; the record still counts it, as offline).
   */
  const priced = (model: ModelSpec, inputTokens: number, outputTokens: number) => (providerOf(model).offline ? 0 : costMicroUsd(model, inputTokens, outputTokens));

  /**
   * Everything decided before a model is called, in one round of parallel writes and reads: the
   * routing settings, the chat rate limits and the budget reservation do not wait for one another.
   * That is what lets the reservation be made before the routing decision: it covers the most the
   * query can cost on any model it may go to (either tier's default for `auto`, else the pinned model
   * and its fallback), and the token limit counts the larger output bound. A call refused by either
   * check releases the reservation the other made. `options.org` is the organization as the caller's
   * authentication read it (no second read); without it, it is read first. `options.deadline` (epoch
   * ms, the invocation's end) bounds every model attempt and sets the reservation's expiry.
   * `options.allowedModels`: the caller's key may request only these models (403 `model_not_allowed`).
   */
  async function plan(
    principal: Principal,
    body: ChatCompletionRequest,
    options: { agentId?: string; routingOff?: { tier: "slm" | "llm" }; deadline?: number; org?: Organization; allowedModels?: readonly string[] } = {},
  ): Promise<Plan> {
    if (principal.kind !== "org") throw forbidden("Chat completions are made on behalf of an organization: use its API key.", "org_key_required");
    // No time for a single attempt (an agent turn that used up its invocation): refuse before reserving.
    if (attemptBudget(options.deadline, false) === undefined) throw outOfTime([]);
    const org = options.org?.id === principal.orgId ? options.org : await orgs.get(principal.orgId);
    if (!org) throw notFound("Organization", principal.orgId);

    const resolved = catalog.resolve(body.model);
    if (!resolved) throw unknownModel(catalog, body.model);
    if (options.allowedModels && !allowsModel(catalog, options.allowedModels, body.model)) {
      const message = `This API key may not use the model '${body.model.slice(0, 200)}'; it may use: ${options.allowedModels.join(", ")}.`;
      throw forbidden(message, "model_not_allowed", { errors: [{ field: "model", message: `must be one of: ${options.allowedModels.join(", ")}` }] });
    }
    const pinned = resolved.kind === "model" ? resolved.model : undefined;
    const candidates = pinned ? [pinned, catalog.fallbackFor(pinned)] : [catalog.defaultOf("slm"), catalog.defaultOf("llm")];
    const requestedMaxTokens = body.max_completion_tokens ?? body.max_tokens ?? catalog.settings.defaultMaxTokens;
    const maxTokensOf = (model: ModelSpec) => Math.min(requestedMaxTokens, model.contextWindow);
    const outputBound = Math.max(...candidates.map(maxTokensOf));
    const inputBound = inputTokenUpperBound(body.messages, body.tools);
    // Whichever candidate answers, with up to its own output bound (the fallback answers with the
    // planned model's bound, so every pair is covered).
    const reservedMicroUsd = Math.max(...candidates.flatMap((m) => candidates.map((c) => priced(c, inputBound, maxTokensOf(m)))));
    const now = clock.now();
    const period = periodOf(now);
    const budgetUsd = modelBudgetOf(org);
    // A key with a monthly budget of its own holds the reservation against both budgets.
    const keyBudgetUsd = principal.monthlyBudgetUsd;
    const reservation: Reservation = {
      id: newId(),
      orgId: org.id,
      period,
      amountMicroUsd: reservedMicroUsd,
      expiresAt: reservationExpiry(options.deadline),
      ...(keyBudgetUsd !== undefined ? { keyId: principal.keyId } : {}),
    };

    const routingOn = !pinned && !options.routingOff;
    const audience = eventsFor(events, org.id);
    const [routingRead, admitted, reserved] = await Promise.allSettled([
      routingOn ? settings.get(principal.orgId) : Promise.resolve<RoutingSettings>({}),
      // Tokens per minute count the estimated input plus the output bound, as OpenAI counts them.
      limits ? limits.admitChat(org, inputTokenEstimate(body.messages, body.tools) + outputBound) : Promise.resolve<LimitState[]>([]),
      metering.reserve(reservation, Math.round(budgetUsd * MICRO), keyBudgetUsd !== undefined ? Math.round(keyBudgetUsd * MICRO) : undefined),
    ]);
    const refusal = routingRead.status === "rejected" ? routingRead.reason : admitted.status === "rejected" ? admitted.reason : reserved.status === "rejected" ? reserved.reason : undefined;
    if (refusal !== undefined) {
      if (reserved.status === "fulfilled" && reserved.value === "reserved") await metering.release(reservation).catch(() => undefined);
      throw refusal;
    }
    const outcome = (reserved as PromiseFulfilledResult<ReserveOutcome>).value;
    if (outcome === "key_budget_exceeded") {
      throw quotaExceeded(
        `This API key's monthly budget of $${keyBudgetUsd} would be exceeded by this query (up to $${(reservedMicroUsd / MICRO).toFixed(4)}).`,
        "key_budget_exceeded",
        { limit: "keyMonthlyBudgetUsd", limitUsd: keyBudgetUsd, period, resetsAt: periodResetsAt(now) },
      );
    }
    if (outcome === "budget_exceeded") {
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
      const alias = resolved.kind === "model" ? resolved.alias : undefined;
      reason = { code: "pinned", detail: alias ? `model ${alias} requested (served by ${pinned.id})` : `model ${pinned.id} requested` };
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
    return {
      recordId: newId(),
      org,
      model,
      score,
      threshold,
      reason,
      request,
      reservation,
      reservedMicroUsd,
      period,
      started: Date.now(),
      requestedModel: body.model,
      rateLimits,
      events: audience,
      ...(options.agentId ? { agentId: options.agentId } : {}),
      ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
    };
  }

  function toRecord(p: Plan, model: ModelSpec, result: ProviderResult, attempts: Attempt[], stream: boolean): UsageRecord {
    const baseline = catalog.defaultOf("llm");
    return {
      id: p.recordId,
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
      costMicroUsd: priced(model, result.usage.inputTokens, result.usage.outputTokens),
      // No savings are claimed for an answer no model gave.
      baselineMicroUsd: providerOf(model).offline ? 0 : costMicroUsd(baseline, result.usage.inputTokens, result.usage.outputTokens),
      latencyMs: Date.now() - p.started,
      offline: providerOf(model).offline,
      estimated: result.estimated || providerOf(model).offline,
      stream,
      ...(p.agentId ? { agentId: p.agentId } : {}),
    };
  }

  /** Gives the reservation back (exactly once, see MeteringStore.release) and throws the query's failure. */
  async function fail(p: Plan, attempts: Attempt[], last: unknown): Promise<never> {
    await metering.release(p.reservation);
    if (last === OUT_OF_TIME) throw outOfTime(attempts);
    // A request no attempt could serve in the shape it asked for (the offline responder refusing an
    // unsatisfiable schema) is the client's error, not a model failure: its own 4xx.
    if (isDomainError(last)) throw last;
    const error = last instanceof ProviderError ? last : new ProviderError("failed", String(last));
    const tried = attempts.map((a) => `${a.model}: ${a.error}`).join("; ");
    throw new DomainError(
      error.kind === "timeout" ? "upstream_timeout" : "upstream_failed",
      error.kind === "timeout" ? "model_timeout" : "model_failed",
      `No model could answer (${tried}).`,
      { attempts },
    );
  }

  /**
   * The attempts of a query, each with its time: the planned model, then the other tier's default. An
   * attempt that the deadline leaves no time for is not made: it is recorded as skipped, and the query
   * fails as timed out instead of being killed with its reservation open.
   */
  function* attemptsOf(p: Plan, attempts: Attempt[]): Generator<{ model: ModelSpec; request: ProviderRequest } | typeof OUT_OF_TIME> {
    const order = [p.model, catalog.fallbackFor(p.model)];
    for (const [index, model] of order.entries()) {
      const budget = attemptBudget(p.deadline, index < order.length - 1);
      if (budget === undefined) {
        attempts.push({ model: model.id, tier: model.tier, ok: false, latencyMs: 0, error: SKIPPED });
        yield OUT_OF_TIME;
        return;
      }
      yield { model, request: { ...p.request, model, ...(Number.isFinite(budget) ? { timeoutMs: budget, signal: AbortSignal.timeout(budget) } : {}) } };
    }
  }

  /**
   * Settles a query; if that fails, gives the reservation back before the error goes on (a settle that
   * did commit is not undone: the release is conditional on the reservation still being open).
   */
  async function settle(p: Plan, record: UsageRecord): Promise<void> {
    try {
      await metering.settle(p.reservation, record);
    } catch (error) {
      await metering.release(p.reservation).catch(() => undefined);
      throw error;
    }
  }

  return {
    plan,

    /** A whole answer: the planned model, else the other tier's default, within the plan's deadline. */
    async complete(p: Plan): Promise<Outcome> {
      const attempts: Attempt[] = [];
      let last: unknown;
      for (const attempt of attemptsOf(p, attempts)) {
        if (attempt === OUT_OF_TIME) {
          last = attempt;
          break;
        }
        const { model, request } = attempt;
        const started = Date.now();
        let result: ProviderResult;
        try {
          result = await providerOf(model).complete(request);
        } catch (error) {
          last = error;
          attempts.push({ model: model.id, tier: model.tier, ok: false, latencyMs: Date.now() - started, error: error instanceof Error ? error.message : String(error) });
          continue;
        }
        // Outside the attempt's try: a failed settle is not a model failure (it must not call the fallback).
        attempts.push({ model: model.id, tier: model.tier, ok: true, latencyMs: Date.now() - started });
        const record = toRecord(p, model, result, attempts, false);
        await settle(p, record);
        await announce(p, record);
        return { result, record };
      }
      return fail(p, attempts, last);
    },

    /**
     * A streamed answer. Falls back only while nothing has been streamed yet: once a client has seen
     * tokens of one model, switching models mid-answer would corrupt it, so a later failure ends the
     * stream with an error instead. The deadline bounds the whole stream (an answer still streaming at
     * it ends with a timeout error and its reservation released).
     */
    async *stream(p: Plan): AsyncGenerator<StreamEvent | { type: "record"; record: UsageRecord }> {
      const attempts: Attempt[] = [];
      let last: unknown;
      // Settled or released: until then the reservation is open, and a consumer that stops reading
      // (a client gone, a write that threw) must not leave it counted against the budget.
      let closed = false;
      try {
        for (const attempt of attemptsOf(p, attempts)) {
          if (attempt === OUT_OF_TIME) {
            last = attempt;
            break;
          }
          const { model, request } = attempt;
          const started = Date.now();
          let streamed = false;
          let result: ProviderResult | undefined;
          try {
            for await (const event of providerOf(model).stream(request)) {
              if (event.type === "delta") {
                streamed = true;
                yield event;
              } else {
                result = event.result;
                break;
              }
            }
            if (!result) throw new ProviderError("failed", "The model's stream ended without a result.");
          } catch (error) {
            last = error;
            attempts.push({ model: model.id, tier: model.tier, ok: false, latencyMs: Date.now() - started, error: error instanceof Error ? error.message : String(error) });
            if (streamed) break;
            continue;
          }
          attempts.push({ model: model.id, tier: model.tier, ok: true, latencyMs: Date.now() - started });
          const record = toRecord(p, model, result, attempts, true);
          closed = true;
          await settle(p, record);
          await announce(p, record);
          yield { type: "done", result };
          yield { type: "record", record };
          return;
        }
        closed = true;
        await fail(p, attempts, last);
      } finally {
        if (!closed) await metering.release(p.reservation).catch(() => undefined);
      }
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;

/** The reason of an attempt the deadline left no time for. */
const SKIPPED = "skipped: no time left before the function's deadline";
const OUT_OF_TIME = Symbol("out of time");

/** The query could not be (fully) attempted before the invocation's deadline: 504, as a model timeout. */
function outOfTime(attempts: Attempt[]): DomainError {
  const tried = attempts.map((a) => `${a.model}: ${a.error}`).join("; ");
  return new DomainError(
    "upstream_timeout",
    "model_timeout",
    `No model could answer before the function's deadline${tried ? ` (${tried})` : ""}.`,
    { attempts },
  );
}

/**
 * 404 `unknown_model`, as OpenAI answers a model that does not exist (its SDKs raise NotFoundError),
 * naming every name that is accepted.
 */
function unknownModel(catalog: ModelCatalog, name: string): DomainError {
  const ids = catalog.models.map((m) => m.id);
  const aliases = catalog.aliases().map((a) => a.alias);
  const accepted = `"auto", a catalog model (${ids.join(", ")}) or an alias (${aliases.join(", ")}), optionally with a provider prefix (openai/gpt-4o)`;
  return new DomainError("not_found", "unknown_model", `The model '${name.slice(0, 200)}' does not exist here. Use ${accepted}.`, {
    errors: [{ field: "model", message: `must be ${accepted}` }],
  });
}

/** The text of a message's content (string or text parts), for the classifier. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) return content.map((p) => (p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : "")).join(" ");
  return "";
}

export { MICRO };
