import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import type { TaskRef } from "../../core/agents/work.schema";
import { logger } from "../lib/logger";
import { workQueueClient } from "../lib/services/work-queue";

/**
 * The work queue's outbox (manifest: functions/manifest/work.ts): each task inserted with its message
 * becomes one queue message. The batch is sent in order; if a send fails, the records from that
 * chunk on are reported, so the mapping retries from there (a task sent twice is claimed once).
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const tasks: { ref: TaskRef; sequence: string }[] = [];
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    if (record.eventName !== "INSERT" || !image) continue;
    const item = unmarshall(image as Record<string, AttributeValue>);
    if (item.entity !== "task" || item.status !== "queued" || typeof item.orgId !== "string" || typeof item.id !== "string") continue;
    tasks.push({ ref: { orgId: item.orgId, taskId: item.id }, sequence: record.dynamodb?.SequenceNumber ?? "" });
  }
  for (let i = 0; i < tasks.length; i += 10) {
    const chunk = tasks.slice(i, i + 10);
    try {
      await workQueueClient().send(chunk.map((t) => t.ref));
    } catch (error) {
      logger.error("sending tasks to the work queue failed", { error: error as Error, tasks: chunk.length });
      return { batchItemFailures: [{ itemIdentifier: chunk[0]!.sequence }] };
    }
  }
  if (tasks.length) logger.info("tasks queued", { tasks: tasks.length });
  return { batchItemFailures: [] };
}
