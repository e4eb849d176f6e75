import { scheduledRedrive } from "../lib/redrive-handler";
import { auditConsumer } from "../manifest/audit";
import { handler as audit } from "./audit";

/**
 * Replays what the audit consumer's event source mapping gave up on (its failure queue), every few
 * minutes: no change may be missing from the audit log for good (docs/audit-operations.md section 3).
 */
export const handler = scheduledRedrive(auditConsumer, audit);
