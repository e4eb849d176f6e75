import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { toStreamChangeRecord } from "../../core/db/audit-stream";
import { revocationOf } from "../../core/realtime/sessions";
import { logger } from "../lib/logger";
import { access } from "../lib/services/access";
import { realtime } from "../lib/services/realtime";

/**
 * Revocation's backstop (manifest: functions/manifest/realtime.ts): for each key revoked and each
 * organization closed, closes the WebSocket connections that are still open. Records are handled in
 * order; the first that fails is reported, so the mapping retries from it (ending sessions twice is
 * harmless).
 */
export async function handler(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
  let ended = 0;
  for (const record of event.Records) {
    const revocation = revocationOf(toStreamChangeRecord(record));
    if (!revocation) continue;
    try {
      access().credentials.forget(revocation.orgId, revocation.keyId);
      ended += await realtime().sessions.end(revocation.orgId, revocation.keyId);
    } catch (error) {
      logger.error("ending revoked sessions failed", { error: error as Error, orgId: revocation.orgId });
      return { batchItemFailures: [{ itemIdentifier: record.dynamodb?.SequenceNumber ?? "" }] };
    }
  }
  if (ended) logger.info("revoked sessions ended", { connections: ended });
  return { batchItemFailures: [] };
}
