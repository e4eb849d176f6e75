import type { MessageRecord } from "./agent.schema";
import type { TaskRecord } from "./work.schema";

/**
 * Messages in a chain (a delegation, its report, the task it resumes, ...) before one stops becoming
 * a task: agents messaging each other cannot keep each other busy forever. A message past it still
 * lands in the inbox; nobody works it unasked.
 */
export const MAX_HOPS = 12;

/** Kinds that ask their recipient for work. A report does when it resumes the delegator's task. */
const WORK_KINDS = new Set(["delegate", "escalate", "direct"]);

/**
 * Whether a message becomes a task its recipient works by itself: a delegation, an escalation or a
 * direct message (from a person's key, an agent or the SLA sweep), or a report that resumes the task
 * that delegated; never a broadcast; never past MAX_HOPS.
 */
export function isWorkable(message: Pick<MessageRecord, "kind" | "parentTaskId" | "hops">): boolean {
  if ((message.hops ?? 0) >= MAX_HOPS) return false;
  return WORK_KINDS.has(message.kind) || (message.kind === "report" && message.parentTaskId !== undefined);
}

/** The task of a workable message, queued. */
export function taskOf(message: MessageRecord): TaskRecord {
  return {
    id: message.id,
    agentId: message.to,
    from: message.from,
    kind: message.kind as TaskRecord["kind"],
    ...(message.subject ? { subject: message.subject } : {}),
    status: "queued",
    attempts: 0,
    steps: 0,
    costUsd: 0,
    costMicroUsd: 0,
    inputTokens: 0,
    outputTokens: 0,
    depth: message.depth ?? 0,
    hops: message.hops ?? 0,
    ...(message.parentTaskId ? { parentTaskId: message.parentTaskId } : {}),
    ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
    createdAt: message.createdAt,
    updatedAt: message.createdAt,
  };
}

/** The UTC day of a time, for the daily counters. */
export const dayOf = (iso: string): string => iso.slice(0, 10);
