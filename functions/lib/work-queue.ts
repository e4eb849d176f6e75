import { ChangeMessageVisibilityCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { TaskRef } from "../../core/agents/work.schema";

/** The SQS client; for a local queue (on loopback) its endpoint is the queue's origin. */
function clientFor(queueUrl: string | undefined): SQSClient {
  const local = queueUrl && /^http:\/\/(127\.0\.0\.1|localhost)[:/]/.test(queueUrl) ? new URL(queueUrl).origin : undefined;
  return new SQSClient({ region: process.env.AWS_REGION ?? "us-east-1", ...(local ? { endpoint: local } : {}) });
}

/** SendMessageBatch's limit. */
const BATCH = 10;

/**
 * The agents' work queue as its senders use it (the dispatcher, the worker re-queuing a task over its
 * organization's concurrency limit): its URL is AGENTORG_WORK_QUEUE_URL (the stack's, or the local
 * queue's on 127.0.0.1, which the SDK uses as its endpoint). `queue:work` permission.
 */
export function createWorkQueue({ queueUrl = process.env.AGENTORG_WORK_QUEUE_URL, client = clientFor(queueUrl) }: { client?: SQSClient; queueUrl?: string } = {}) {
  const url = () => {
    if (!queueUrl) throw new Error("AGENTORG_WORK_QUEUE_URL is not set: the work queue is unknown.");
    return queueUrl;
  };
  return {
    /** Sends the tasks; throws if any entry failed (the caller's retry sends them again; duplicates are harmless). */
    async send(refs: readonly TaskRef[]): Promise<void> {
      for (let i = 0; i < refs.length; i += BATCH) {
        const chunk = refs.slice(i, i + BATCH);
        const { Failed } = await client.send(
          new SendMessageBatchCommand({ QueueUrl: url(), Entries: chunk.map((ref, n) => ({ Id: String(n), MessageBody: JSON.stringify(ref) })) }),
        );
        if (Failed?.length) throw new Error(`The work queue refused ${Failed.length} task(s): ${Failed.map((f) => f.Code).join(", ")}`);
      }
    },
    /** Sends one task again after `delaySeconds` (at most 900). */
    async later(ref: TaskRef, delaySeconds: number): Promise<void> {
      await client.send(new SendMessageCommand({ QueueUrl: url(), MessageBody: JSON.stringify(ref), DelaySeconds: Math.max(0, Math.min(900, Math.round(delaySeconds))) }));
    },
    /**
     * Lets a received message that failed come back after `seconds` instead of the whole visibility
     * timeout (which is the worker's 15 minutes): the retry's backoff.
     */
    async retryIn(receiptHandle: string, seconds: number): Promise<void> {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url(), ReceiptHandle: receiptHandle, VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))) }));
    },
    destroy: () => client.destroy(),
  };
}

export type WorkQueue = ReturnType<typeof createWorkQueue>;
