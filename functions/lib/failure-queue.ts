import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { FailureQueue } from "./stream-redrive";

/** A consumer's on-failure SQS queue, for the redrive (functions/lib/stream-redrive.ts). */
export function createSqsFailureQueue({ client, queueUrl }: { client: SQSClient; queueUrl: string }): FailureQueue {
  return {
    async receive(max, visibilitySeconds) {
      const { Messages } = await client.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: max,
          VisibilityTimeout: visibilitySeconds,
          // Short poll: a scheduled run should not wait for messages that are not there.
          WaitTimeSeconds: 0,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
        }),
      );
      return (Messages ?? []).map((m) => ({
        id: m.MessageId ?? "",
        body: m.Body ?? "",
        receiptHandle: m.ReceiptHandle ?? "",
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
        sentAt: Number(m.Attributes?.SentTimestamp ?? Date.now()),
      }));
    },
    async delete(message) {
      await client.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.receiptHandle }));
    },
    async retryLater(message, delaySeconds) {
      await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: delaySeconds }));
    },
  };
}
