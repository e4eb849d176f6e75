import { isDomainError } from "../errors";
import { newId } from "../ids";
import type { Principal } from "../auth/principal";
import type { EventPublisher } from "../realtime/events";
import { type Clock, systemClock } from "../shared/clock";
import type { MessageMeta, MessageRecord } from "./agent.schema";
import { actingOf, type AgentService } from "./agent-service";
import type { MessageStore, TaskOutcome, WorkStore } from "./ports";
import type { AgentRuntime, ChatTurnResult } from "./runtime";
import { dayOf } from "./work-rules";
import type { TaskRecord, TaskRef, WorkSettings } from "./work.schema";

export interface WorkServiceDeps {
  work: WorkStore;
  messages: MessageStore;
  agents: AgentService;
  /** Absent for the dead-letter consumer, which ends tasks without running agents (and loads no model client). */
  runtime?: AgentRuntime;
  events: EventPublisher;
  clock?: Clock;
}

/** What the worker did with one queue message; the handler acts on `requeue` (send again, delayed). */
export type WorkResult =
  | { outcome: "done" | "failed" | "needs_human"; taskId: string }
  /** Nothing to do: no such task, already ended, or another worker holds it. */
  | { outcome: "skipped"; taskId: string; why: string }
  /** The organization is at its concurrency limit: the task waits in the queue, not in the dead-letter queue. */
  | { outcome: "requeue"; taskId: string; delaySeconds: number; ref: TaskRef };

/** Claim attempts against concurrent changes of the task before the message is left to SQS's retry. */
const CLAIM_ATTEMPTS = 3;
/** A task sent back this many times for want of a free slot needs a person (no endless waiting). */
export const MAX_WAITS = 120;
/** How long a task over the concurrency limit waits before it is tried again. */
export const DEFAULT_WAIT_SECONDS = 10;
/** A lease when the invocation's deadline is unknown. */
const DEFAULT_LEASE_MS = 15 * 60_000;
const RESULT_LIMIT = 4_000;

const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** Errors a retry cannot fix: the task ends at once (failed, or needs_human for a paused agent). */
function permanent(error: unknown): { status: "failed" | "needs_human"; reason: string } | undefined {
  if (!isDomainError(error)) return undefined;
  if (error.code === "agent_paused") return { status: "needs_human", reason: error.message };
  if (error.kind === "not_found" || error.kind === "forbidden" || error.kind === "invalid_input") return { status: "failed", reason: error.message };
  return undefined;
}

/**
 * The work queue's core (docs/agents-work.md): a task (a message that asks an agent for work) is
 * claimed with a conditional write, worked by the agent runtime as a turn of its recipient with the
 * message as input, and ended `done`, `failed` or `needs_human` with its steps, cost and run, in one
 * transaction with the report to its delegator. Redelivery of an ended task has no effect; a task over
 * the organization's concurrency limit waits in the queue; a daily budget used up ends it `needs_human`.
 * No AWS SDK here: the queue is the handler's (functions/queue/agent-worker.ts).
 */
export function createWorkService({ work, messages, agents, runtime, events, clock = systemClock }: WorkServiceDeps) {
  const waitSeconds = () => Number(process.env.AGENTORG_WORK_WAIT_SECONDS ?? DEFAULT_WAIT_SECONDS);

  async function announce(orgId: string, agentId: string, taskId: string): Promise<void> {
    const message = await messages.get(orgId, agentId, taskId);
    if (message) await events.publish({ type: "message.updated", orgId, time: clock.now().toISOString(), data: { message } });
  }

  async function announceCreated(orgId: string, records: MessageRecord[]): Promise<void> {
    for (const message of records) await events.publish({ type: "message.created", orgId, time: message.createdAt, data: { message } });
  }

  /**
   * The delegation a task's outcome answers: a delegated task answers itself; a task resumed by a report
   * answers the delegation its agent was working when it delegated (the parent task's message). Other
   * kinds answer nobody.
   */
  async function originOf(orgId: string, task: TaskRecord, message: MessageRecord | undefined): Promise<MessageRecord | undefined> {
    if (!message) return undefined;
    if (message.kind === "delegate") return message;
    if (message.kind !== "report" || !message.parentTaskId) return undefined;
    const parent = await messages.get(orgId, task.agentId, message.parentTaskId);
    return parent?.kind === "delegate" ? parent : undefined;
  }

  /**
   * The report to the delegator of `origin`, from the agent that worked it (none when the delegator is
   * gone). It resumes the delegator's task when the delegation was made while working one.
   */
  async function reportsOf(orgId: string, task: TaskRecord, origin: MessageRecord | undefined, status: TaskOutcome["status"], text: string): Promise<MessageRecord[]> {
    if (!origin) return [];
    const meta: MessageMeta = {
      inReplyTo: origin.id,
      reportStatus: status,
      hops: task.hops + 1,
      depth: Math.max(0, (origin.depth ?? 1) - 1),
      ...(origin.parentTaskId ? { parentTaskId: origin.parentTaskId } : {}),
    };
    try {
      return await agents.compose({ orgId, actor: `agent:${task.agentId}` }, task.agentId, { kind: "report", to: origin.from, subject: `Report (${status}): ${clip(origin.subject ?? origin.body, 120)}`, body: text || "(no answer)" }, meta);
    } catch (error) {
      if (isDomainError(error) && (error.kind === "not_found" || error.kind === "forbidden")) return [];
      throw error;
    }
  }

  async function inputOf(orgId: string, task: TaskRecord, message: MessageRecord): Promise<string> {
    const tree = await agents.tree(orgId);
    const from = tree.byId.get(message.from);
    const who = from ? `${from.name} (${from.id})` : message.from;
    switch (message.kind) {
      case "delegate":
        return `Task delegated to you by ${who}${message.subject ? ` - ${message.subject}` : ""}:\n${message.body}`;
      case "escalate":
        return `Escalation from ${who}${message.subject ? ` - ${message.subject}` : ""}:\n${message.body}`;
      case "report":
        return `Report from ${who} on the task you delegated (${message.inReplyTo ?? "?"}), which ended ${message.reportStatus ?? "done"}:\n${message.body}\nContinue your task with it and give your result.`;
      default:
        return `Message from ${who}${message.subject ? ` - ${message.subject}` : ""}:\n${message.body}`;
    }
  }

  /** Ends a task no worker holds (a daily budget used up, the dead-letter queue), telling its delegator. */
  async function endUnclaimed(orgId: string, taskId: string, status: "failed" | "needs_human", reasonOf: (task: TaskRecord) => string): Promise<WorkResult> {
    for (let n = 1; n <= CLAIM_ATTEMPTS; n++) {
      const task = await work.get(orgId, taskId);
      if (!task) return { outcome: "skipped", taskId, why: "no such task" };
      if (task.status !== "queued" && task.status !== "working") return { outcome: "skipped", taskId, why: `already ${task.status}` };
      const message = await messages.get(orgId, task.agentId, taskId);
      const reason = reasonOf(task);
      const now = clock.now().toISOString();
      const reports = await reportsOf(orgId, task, await originOf(orgId, task, message), status, `The task could not be completed: ${reason}`);
      const outcome: TaskOutcome = { status, reason, now, day: dayOf(now), reports };
      if ((await work.end(orgId, task, outcome, message?.status === "queued")) === "ok") {
        await announce(orgId, task.agentId, taskId);
        await announceCreated(orgId, reports);
        return { outcome: status, taskId };
      }
    }
    throw new Error(`Task ${taskId} kept changing while it was ended.`);
  }

  return {
    /**
     * Works one task once (a queue message). Throws when the attempt failed in a way a retry may fix
     * (the task is back to queued first): the queue delivers it again, and after its last receive it
     * goes to the dead-letter queue (`deadLetter`).
     */
    async process(ref: TaskRef, { deadline }: { deadline?: number } = {}): Promise<WorkResult> {
      const { orgId, taskId } = ref;
      for (let n = 1; n <= CLAIM_ATTEMPTS; n++) {
        const task = await work.get(orgId, taskId);
        if (!task) return { outcome: "skipped", taskId, why: "no such task" };
        const nowMs = clock.now().getTime();
        const now = new Date(nowMs).toISOString();
        if (task.status === "done" || task.status === "failed" || task.status === "needs_human") return { outcome: "skipped", taskId, why: `already ${task.status}` };
        if (task.status === "working" && task.leaseUntil && task.leaseUntil >= now) return { outcome: "skipped", taskId, why: "another worker holds it" };
        const message = await messages.get(orgId, task.agentId, taskId);
        if (!message) return { outcome: "skipped", taskId, why: "its message is gone" };
        const settings: WorkSettings = await work.settings(orgId);
        const token = newId();
        const claimed = await work.claim(orgId, task, {
          token,
          now,
          leaseUntil: new Date(deadline ?? nowMs + DEFAULT_LEASE_MS).toISOString(),
          day: dayOf(now),
          settings,
          messageQueued: message.status === "queued",
        });
        if (claimed === "conflict") continue;
        if (claimed === "busy") {
          const waits = (ref.waits ?? 0) + 1;
          if (waits > MAX_WAITS) return endUnclaimed(orgId, taskId, "needs_human", () => `It waited ${MAX_WAITS} times for a free slot (the organization's concurrency limit is ${settings.maxConcurrentTasks}).`);
          return { outcome: "requeue", taskId, delaySeconds: waitSeconds(), ref: { orgId, taskId, waits } };
        }
        if (claimed === "daily_tasks" || claimed === "daily_cost") {
          const what = claimed === "daily_tasks" ? `its ${settings.dailyTasks} tasks` : `its $${settings.dailyCostUsd} of model cost`;
          return endUnclaimed(orgId, taskId, "needs_human", () => `The organization used up ${what} for today (work settings).`);
        }
        const claimedTask: TaskRecord = { ...task, status: "working", claim: token, version: (task.version ?? 1) + 1, attempts: task.attempts + 1 };
        await announce(orgId, task.agentId, taskId);

        const principal: Principal = { kind: "org", orgId, keyId: "agent-worker", keyName: "agent worker" };
        if (!runtime) throw new Error("This work service has no agent runtime: it only ends tasks.");
        let result: ChatTurnResult & { stopped?: "steps" | "cost" };
        try {
          result = await runtime.work(principal, task.agentId, await inputOf(orgId, task, message), {
            task: { id: task.id, depth: task.depth, hops: task.hops },
            maxSteps: settings.maxStepsPerTask,
            maxCostMicroUsd: Math.round(settings.maxCostPerTaskUsd * 1_000_000),
            ...(deadline !== undefined ? { deadline } : {}),
          });
        } catch (error) {
          const ended = permanent(error);
          const at = clock.now().toISOString();
          if (ended) {
            const reports = await reportsOf(orgId, task, await originOf(orgId, task, message), ended.status, `The task could not be completed: ${ended.reason}`);
            if ((await work.finish(orgId, claimedTask, token, { ...ended, now: at, day: dayOf(at), reports })) === "ok") {
              await announce(orgId, task.agentId, taskId);
              await announceCreated(orgId, reports);
            }
            return { outcome: ended.status, taskId };
          }
          const reason = clip(error instanceof Error ? error.message : String(error), 500);
          if ((await work.release(orgId, claimedTask, token, reason, at)) === "ok") await announce(orgId, task.agentId, taskId);
          throw error;
        }

        const at = clock.now().toISOString();
        const costMicroUsd = result.steps.reduce((s, x) => s + x.costMicroUsd, 0);
        const status = result.stopped ? "needs_human" : "done";
        const reason = result.stopped === "cost" ? `It reached its cost limit ($${settings.maxCostPerTaskUsd}).` : result.stopped === "steps" ? `It used its ${settings.maxStepsPerTask} steps without a final answer.` : undefined;
        // A turn that delegated reports later: when a report resumes it, the resumed task reports for it.
        const delegated = result.steps.some((step) => step.toolCalls.some((call) => call.name === "delegate_task" && call.ok));
        const reports = delegated && status === "done" ? [] : await reportsOf(orgId, task, await originOf(orgId, task, message), status, result.reply);
        const outcome: TaskOutcome = {
          status,
          ...(reason ? { reason } : {}),
          now: at,
          day: dayOf(at),
          steps: result.steps.length,
          costMicroUsd,
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
          runId: result.runId,
          result: clip(result.reply, RESULT_LIMIT),
          reports,
        };
        if ((await work.finish(orgId, claimedTask, token, outcome)) !== "ok") {
          // Our lease expired and another worker took the task over: its outcome stands, not ours.
          return { outcome: "skipped", taskId, why: "lost the lease" };
        }
        await announce(orgId, task.agentId, taskId);
        await announceCreated(orgId, reports);
        return { outcome: status, taskId };
      }
      throw new Error(`Task ${taskId} kept changing while it was claimed.`);
    },

    /** A task that failed every retry (the dead-letter queue's consumer): failed, its delegator told. */
    deadLetter(ref: TaskRef, receives: number): Promise<WorkResult> {
      return endUnclaimed(ref.orgId, ref.taskId, "failed", (task) => `It failed ${Math.max(task.attempts, receives)} attempt(s); last error: ${task.reason ?? "unknown"}`);
    },
  };
}

export type WorkService = ReturnType<typeof createWorkService>;

/** The queue message body of a task reference; undefined for anything else. */
export function parseTaskRef(body: string): TaskRef | undefined {
  try {
    const value = JSON.parse(body) as Partial<TaskRef>;
    if (typeof value.orgId !== "string" || typeof value.taskId !== "string") return undefined;
    return { orgId: value.orgId, taskId: value.taskId, ...(typeof value.waits === "number" ? { waits: value.waits } : {}) };
  } catch {
    return undefined;
  }
}

/** The work board's reads and the organization's work settings (the HTTP API); no model calls. */
export function createWorkBoard({ work, clock = systemClock }: { work: WorkStore; clock?: Clock }) {
  const view = (task: TaskRecord): TaskRecord => {
    const { claim: _c, version: _v, costMicroUsd: _m, ...rest } = task;
    return rest;
  };
  return {
    async listTasks(principal: Principal, query: { status?: TaskRecord["status"]; limit?: number; cursor?: string }) {
      const { orgId } = actingOf(principal);
      const page = await work.list(orgId, query);
      return { ...page, items: page.items.map(view) };
    },
    async settings(principal: Principal) {
      const { orgId } = actingOf(principal);
      const [settings, usage] = await Promise.all([work.settings(orgId), work.usage(orgId, dayOf(clock.now().toISOString()))]);
      return { settings, usage };
    },
    /** Changes some limits; the others keep their values (defaults until set). */
    async updateSettings(principal: Principal, patch: Partial<WorkSettings>) {
      const { orgId, actor } = actingOf(principal);
      const settings = { ...(await work.settings(orgId)), ...patch };
      await work.putSettings(orgId, settings, actor);
      return { settings, usage: await work.usage(orgId, dayOf(clock.now().toISOString())) };
    },
  };
}

export type WorkBoard = ReturnType<typeof createWorkBoard>;
