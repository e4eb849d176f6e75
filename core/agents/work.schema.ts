import { z } from "../shared/zod";

export const TaskStatus = z.enum(["queued", "working", "done", "failed", "needs_human"]);
export type TaskStatus = z.infer<typeof TaskStatus>;

/**
 * A task: a message that asks its recipient agent for work (core/agents/work.ts `isWorkable`), as the
 * work queue tracks it. Its id is the message's id; the message carries the same status.
 */
export const Task = z
  .object({
    id: z.string().meta({ description: "The message's id" }),
    agentId: z.string().meta({ description: "The agent working it (the message's recipient)" }),
    from: z.string(),
    kind: z.enum(["direct", "delegate", "escalate", "report"]),
    subject: z.string().optional(),
    status: TaskStatus,
    reason: z.string().optional().meta({ description: "Why it failed, needs a person, or was last retried" }),
    attempts: z.number().int().meta({ description: "Times a worker claimed it" }),
    steps: z.number().int().meta({ description: "Model calls of its run" }),
    costUsd: z.number(),
    inputTokens: z.number().int(),
    outputTokens: z.number().int(),
    runId: z.string().optional(),
    result: z.string().optional().meta({ description: "The agent's answer (clipped)" }),
    depth: z.number().int(),
    hops: z.number().int(),
    parentTaskId: z.string().optional(),
    inReplyTo: z.string().optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
    startedAt: z.string().optional(),
    finishedAt: z.string().optional(),
    leaseUntil: z.string().optional().meta({ description: "While working: when another worker may take it over" }),
  })
  .meta({ id: "Task" });

export type TaskRecord = z.infer<typeof Task> & { version?: number; claim?: string; costMicroUsd?: number };

export const ListTasksQuery = z.object({
  status: TaskStatus.optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2000).optional(),
});

/** An organization's limits on autonomous work (defaults in DEFAULT_WORK_SETTINGS). */
export const WorkSettings = z
  .object({
    maxConcurrentTasks: z.number().int().min(1).max(100).meta({ description: "Tasks of the organization worked at once; more wait in the queue" }),
    dailyTasks: z.number().int().min(0).max(100_000).meta({ description: "Tasks started per UTC day; past it a task needs a person" }),
    dailyCostUsd: z.number().min(0).max(100_000).meta({ description: "Model cost per UTC day; past it a task needs a person" }),
    maxStepsPerTask: z.number().int().min(1).max(20).meta({ description: "Model calls of one task" }),
    maxCostPerTaskUsd: z.number().min(0).max(1_000).meta({ description: "Model cost of one task; past it the task needs a person" }),
  })
  .meta({ id: "WorkSettings" });

export type WorkSettings = z.infer<typeof WorkSettings>;

export const DEFAULT_WORK_SETTINGS: WorkSettings = { maxConcurrentTasks: 4, dailyTasks: 500, dailyCostUsd: 20, maxStepsPerTask: 8, maxCostPerTaskUsd: 1 };

export const UpdateWorkSettingsBody = WorkSettings.partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: "at least one field must be given" })
  .meta({ id: "UpdateWorkSettings" });

/** Today's use of the organization's limits. */
export const WorkUsage = z
  .object({ day: z.string(), running: z.number().int(), tasks: z.number().int(), costUsd: z.number() })
  .meta({ id: "WorkUsage" });
export type WorkUsage = z.infer<typeof WorkUsage>;

export const WorkSettingsView = z.object({ settings: WorkSettings, usage: WorkUsage }).meta({ id: "WorkSettingsView" });

/** The body of a work-queue message: which task to work. */
export interface TaskRef {
  orgId: string;
  taskId: string;
  /** Times it went back to the queue because the organization was at its concurrency limit. */
  waits?: number;
}
