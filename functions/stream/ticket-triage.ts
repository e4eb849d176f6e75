import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { toStreamChangeRecord } from "../../core/db/audit-stream";
import { triageTicket } from "../../core/tickets/triage";
import { logger } from "../lib/logger";
import { triage } from "../lib/services/triage";

/**
 * Triage on ticket creation (manifest: functions/manifest/tickets.ts): each ticket insert goes to
 * core/tickets/triage.ts. Records are handled in order; the first that fails is reported so the
 * mapping retries from it. A redelivered record (or the retry of a batch) triages nothing twice: the
 * triage is one conditional write that only the first attempt wins.
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  let triaged = 0;
  for (const record of event.Records) {
    const image = toStreamChangeRecord(record).newImage;
    const orgId = typeof image?.orgId === "string" ? image.orgId : undefined;
    const id = typeof image?.id === "string" ? image.id : undefined;
    if (record.eventName !== "INSERT" || image?.entity !== "ticket" || !orgId || !id) continue;
    try {
      const outcome = await triageTicket(triage(), orgId, id);
      if (outcome.triaged) {
        triaged += 1;
        if (outcome.failures.length) logger.warn("triage partly failed", { orgId, ticketId: id, failures: outcome.failures });
      }
    } catch (error) {
      logger.error("ticket triage failed", { error: error as Error, orgId, ticketId: id });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? "" }] };
    }
  }
  if (triaged) logger.info("tickets triaged", { triaged });
  return { batchItemFailures: [] };
}
