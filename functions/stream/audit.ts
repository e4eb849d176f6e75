import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { toStreamChangeRecord } from "../../core/db/audit-stream";
import { logger } from "../lib/logger";
import { auditConsumer } from "../lib/services/audit";

/**
 * The audit consumer: the table's stream, filtered to tenant items of audited types (manifest:
 * functions/manifest/audit.ts), becomes each tenant's hash-chained audit log (core/audit). Replies
 * with partial batch failures: the mapping retries from the lowest failed record, and records that are
 * already in the log are recognized and skipped.
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  const consumer = await auditConsumer();
  const result = await consumer.consume(event.Records.map(toStreamChangeRecord));
  logger.info("audit batch", { records: event.Records.length, appended: result.appended, skipped: result.skipped, failed: result.failed.length });
  return { batchItemFailures: result.failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
