import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { parseTaskRef } from "../../core/agents/work";
import { deadlineOf, type InvocationContext } from "../lib/invocation";
import { logger } from "../lib/logger";
import { work } from "../lib/services/work";
import { workQueueClient } from "../lib/services/work-queue";

/** Backoff of a failed attempt: this many seconds times the receives so far (AGENTORG_WORK_RETRY_SECONDS). */
const DEFAULT_RETRY_SECONDS = 30;

/** Time kept back from the invocation's end for recording the outcome after the agent's turn. */
const WRAP_UP_MS = 10_000;

/**
 * The agents' worker (manifest: functions/manifest/work.ts): each message names a task; the recipient
 * agent works it (core/agents/work.ts). A failure a retry may fix is reported as a batch item failure:
 * SQS delivers it again after a backoff (its visibility changed to AGENTORG_WORK_RETRY_SECONDS x its
 * receives) and, after its last receive, to the dead-letter queue. A task over its organization's concurrency limit is sent again with a delay (not a failure:
 * waiting must not count towards the dead-letter queue).
 */
export async function handler(event: SQSEvent, context?: InvocationContext): Promise<SQSBatchResponse> {
  const end = deadlineOf(context);
  const deadline = end === undefined ? undefined : end - WRAP_UP_MS;
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    const ref = parseTaskRef(record.body);
    if (!ref) {
      logger.warn("not a task reference: dropped", { messageId: record.messageId });
      continue;
    }
    try {
      const result = await work().process(ref, deadline === undefined ? {} : { deadline });
      if (result.outcome === "requeue") await workQueueClient().later(result.ref, result.delaySeconds);
      logger.info("task worked", { taskId: ref.taskId, orgId: ref.orgId, outcome: result.outcome, receives: record.attributes.ApproximateReceiveCount });
    } catch (error) {
      logger.warn("task attempt failed; it will be retried", { taskId: ref.taskId, orgId: ref.orgId, error: error as Error, receives: record.attributes.ApproximateReceiveCount });
      failures.push({ itemIdentifier: record.messageId });
      // Back off for a while, not the whole visibility timeout; if this fails, the timeout applies.
      const receives = Number(record.attributes.ApproximateReceiveCount ?? 1);
      const seconds = Number(process.env.AGENTORG_WORK_RETRY_SECONDS ?? DEFAULT_RETRY_SECONDS) * receives;
      await workQueueClient()
        .retryIn(record.receiptHandle, seconds)
        .catch((retryError: unknown) => logger.warn("could not shorten the retry's wait", { error: retryError as Error }));
    }
  }
  return { batchItemFailures: failures };
}
