import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { parseTaskRef } from "../../core/agents/work";
import { logger } from "../lib/logger";
import { workEnding } from "../lib/services/work-board";

/**
 * The work queue's dead-letter consumer (manifest: functions/manifest/work.ts): a task that failed
 * every retry ends `failed` with the reason, and its delegator gets a report saying so. An alarm
 * watches this queue's depth (stacks/stream.ts): messages that stay here failed even this.
 */
export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const ref = parseTaskRef(record.body);
    if (!ref) continue;
    try {
      const result = await workEnding().deadLetter(ref, Number(record.attributes.ApproximateReceiveCount ?? 0));
      logger.warn("task failed for good", { taskId: ref.taskId, orgId: ref.orgId, outcome: result.outcome });
    } catch (error) {
      logger.error("ending a dead-lettered task failed", { taskId: ref.taskId, orgId: ref.orgId, error: error as Error });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}
