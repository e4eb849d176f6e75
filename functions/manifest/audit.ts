import { z } from "../../core/shared/zod";
import { AuditCheckpoint, AuditEntry, AuditPublicKey, AuditVerification } from "../../core/audit/audit.schema";
import { IGNORED_ENTITY_TYPES } from "../../core/audit/summarize";
import { httpRoute, type StreamConsumerSpec } from "../manifest.types";
import { Id, Page, PageQuery } from "./common";

const orgId = Id.optional().meta({
  description: "The organization (operator key only). An organization key reads its own log; another organization's id answers 404.",
});
const OrgScope = z.object({ orgId });
const EntriesQuery = PageQuery.extend({
  orgId,
  fromSeq: z.coerce.number().int().min(1).optional().meta({ description: "Oldest first from this seq (default: newest first)" }),
});
const CheckpointsQuery = PageQuery.extend({ orgId });

export const auditRoutes = {
  auditEntries: httpRoute({
    method: "GET",
    path: "/api/v1/audit/entries",
    handler: "functions/http/audit.entries",
    auth: "key",
    summary: "The organization's audit entries: newest first, or oldest first from a seq (cursor pagination)",
    tags: ["audit"],
    query: EntriesQuery,
    response: {
      status: 200,
      description: "A page of entries, and the display name of each actor they name (the key's or agent's name, operator, system)",
      schema: z
        .object({
          items: z.array(AuditEntry),
          cursor: z.string().optional(),
          actorNames: z.record(z.string(), z.string()).optional().meta({ description: "actor -> display name, for the actors of this page" }),
        })
        .meta({ id: "AuditEntryPage" }),
    },
    permissions: ["table:read"],
  }),
  auditCheckpoints: httpRoute({
    method: "GET",
    path: "/api/v1/audit/checkpoints",
    handler: "functions/http/audit.checkpoints",
    auth: "key",
    summary: "The organization's signed checkpoints, newest first",
    tags: ["audit"],
    query: CheckpointsQuery,
    response: { status: 200, description: "A page of checkpoints", schema: Page(AuditCheckpoint, "AuditCheckpointPage") },
    permissions: ["table:read"],
  }),
  auditVerify: httpRoute({
    method: "GET",
    path: "/api/v1/audit/verify",
    handler: "functions/http/audit.verify",
    auth: "key",
    summary: "Recompute the organization's hash chain and check its checkpoints and their signatures",
    tags: ["audit"],
    query: OrgScope,
    response: { status: 200, description: "The verdict (valid or not, and from which seq the log cannot be trusted)", schema: AuditVerification },
    permissions: ["table:read"],
  }),
  auditExport: httpRoute({
    method: "GET",
    path: "/api/v1/audit/export",
    handler: "functions/http/audit.exportLog",
    auth: "key",
    summary: "The whole log as JSON Lines: entries in seq order, then checkpoints (check it with npm run audit:verify)",
    tags: ["audit"],
    query: OrgScope,
    response: { status: 200, description: "An export (docs/audit-log-format.md section 8)", contentType: "application/x-ndjson" },
    permissions: ["table:read"],
    // Written a storage page at a time, so a long log never sits in the function's memory whole.
    streaming: true,
    streamHandler: "functions/http/audit.exportStream",
    atLimit: "An export still being written then is cut short by the function's end: export again (or ask the operator for a copy).",
  }),
  auditPublicKey: httpRoute({
    method: "GET",
    path: "/api/v1/audit/public-key",
    handler: "functions/http/audit.publicKey",
    auth: "public",
    summary: "The Ed25519 public key(s) that verify audit checkpoints",
    tags: ["audit"],
    response: { status: 200, description: "The current key and every earlier one", schema: AuditPublicKey },
    permissions: ["table:read"],
  }),
} as const;

/**
 * Tenant items (`pk` starts with `T#`) whose type is audited: any `entity` but the ignored ones (noise
 * and the audit log's own items, core/audit/summarize.ts). INSERT and MODIFY are matched on the new
 * image, REMOVE on the old one (its only image). The consumer applies the same rules again in code.
 */
const auditedImage = {
  pk: { S: [{ prefix: "T#" }] },
  entity: { S: [{ "anything-but": [...IGNORED_ENTITY_TYPES] }] },
};

export const auditConsumer: StreamConsumerSpec = {
  name: "audit",
  handler: "functions/stream/audit.handler",
  filterPatterns: [
    { eventName: ["INSERT", "MODIFY"], dynamodb: { NewImage: auditedImage } },
    { eventName: ["REMOVE"], dynamodb: { OldImage: auditedImage } },
  ],
  // Up to 100 records; appends go in transactions of at most 49 records per tenant.
  batchSize: 100,
  permissions: ["table:read", "table:write"],
  // No change may be dropped for good: batches the mapping gave up on are replayed every 5 minutes.
  redrive: { handler: "functions/stream/audit-redrive.handler", everyMinutes: 5 },
};
