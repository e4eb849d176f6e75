import { createWorkQueue } from "../work-queue";
import { lazy } from "./lazy";

/** The SQS work queue (AGENTORG_WORK_QUEUE_URL), for its senders. */
export const workQueueClient = lazy(() => createWorkQueue(), (q) => q.destroy());
