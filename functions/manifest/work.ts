import { ListTasksQuery, Task, UpdateWorkSettingsBody, WorkSettingsView } from "../../core/agents/work.schema";
import { httpRoute, type QueueConsumerSpec, type StreamConsumerSpec } from "../manifest.types";
import { Page } from "./common";

/**
 * The agents' work queue (docs/agents-work.md): one SQS message per task. The worker runs the
 * recipient agent's turn (model calls, tools, up to 15 minutes); a message it fails comes back after
 * the visibility timeout, and after its third receive goes to the dead-letter queue, whose consumer
 * marks the task failed and tells the delegator. The visibility timeout is the worker's timeout (AWS
 * requires at least that), so a message comes back only once its invocation has certainly ended.
 */
export const workQueue = {
  name: "agent-work",
  handler: "functions/queue/agent-worker.handler",
  // One task per invocation: a task's run is long, and its failure must not hold back another's.
  batchSize: 1,
  visibilityTimeoutSeconds: 900,
  maxReceiveCount: 3,
  timeoutSeconds: 900,
  // One tenant's burst cannot take the account's Lambda concurrency; per tenant, work settings limit it.
  maxConcurrency: 20,
  // Runs agents: reads and writes the table, pushes events, reads model keys, and re-queues a task over
  // its organization's concurrency limit (`queue:work`).
  permissions: ["table:read", "table:write", "connections:manage", "models:keys", "queue:work"],
  urlEnv: "AGENTORG_WORK_QUEUE_URL",
  deadLetter: {
    name: "agent-work-dlq",
    handler: "functions/queue/agent-dead-letter.handler",
    batchSize: 10,
    timeoutSeconds: 60,
    permissions: ["table:read", "table:write", "connections:manage"],
    maxConcurrency: 2,
  },
} as const satisfies QueueConsumerSpec;

/**
 * The outbox: a task item inserted with its message (core/db/agent.repository.ts `deliveryParts`) is
 * sent to the work queue by this consumer of the table's stream. The message and its task are written
 * in one transaction, and the stream delivers every insert at least once, so no task is lost or sent
 * without its message; a duplicate send is harmless (the worker's claim is conditional).
 */
export const workDispatcher: StreamConsumerSpec = {
  name: "work-dispatch",
  handler: "functions/stream/work-dispatch.handler",
  filterPatterns: [{ eventName: ["INSERT"], dynamodb: { NewImage: { pk: { S: [{ prefix: "T#" }] }, entity: { S: ["task"] }, status: { S: ["queued"] } } } }],
  batchSize: 100,
  permissions: ["queue:work"],
};

const READ = ["table:read"] as const;

export const workRoutes = {
  listTasks: httpRoute({
    method: "GET",
    path: "/api/v1/tasks",
    handler: "functions/http/work.listTasks",
    auth: "key",
    summary: "The organization's tasks (messages agents work by themselves), newest first, optionally by status; cursor pagination (a filtered page can be short and still have a cursor)",
    tags: ["agents"],
    query: ListTasksQuery,
    response: { status: 200, description: "A page of tasks", schema: Page(Task, "TaskPage") },
    permissions: [...READ],
  }),
  getWorkSettings: httpRoute({
    method: "GET",
    path: "/api/v1/work-settings",
    handler: "functions/http/work.getSettings",
    auth: "key",
    summary: "The organization's limits on autonomous work (concurrency, daily tasks and cost, steps and cost per task) and today's use",
    tags: ["agents"],
    response: { status: 200, description: "Settings and today's use", schema: WorkSettingsView },
    permissions: [...READ],
  }),
  updateWorkSettings: httpRoute({
    method: "PATCH",
    path: "/api/v1/work-settings",
    handler: "functions/http/work.updateSettings",
    auth: "key",
    summary: "Change some of the organization's work limits (the others keep their values)",
    tags: ["agents"],
    body: UpdateWorkSettingsBody,
    response: { status: 200, description: "Settings and today's use", schema: WorkSettingsView },
    permissions: ["table:write"],
  }),
} as const;
