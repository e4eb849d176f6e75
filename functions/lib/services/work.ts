import { createWorkBoard, createWorkService } from "../../../core/agents/work";
import { createWorkStore } from "../../../core/db/work.repository";
import { createWorkQueue } from "../work-queue";
import { agentRuntime } from "./agent-runtime";
import { agentRepositories, agents } from "./agents";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { table } from "./table";

export const workStore = lazy(() => createWorkStore(table().options));

/** The work queue's worker core: agents working their tasks (model calls). */
export const work = lazy(() => createWorkService({ work: workStore(), messages: agentRepositories().messages, agents: agents(), runtime: agentRuntime(), events: realtime().events }));

/** The work board and the organization's work settings (no model calls). */
export const workBoard = lazy(() => createWorkBoard({ work: workStore() }));

/** The SQS work queue (AGENTORG_WORK_QUEUE_URL). */
export const workQueueClient = lazy(() => createWorkQueue(), (q) => q.destroy());
