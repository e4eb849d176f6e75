import { z } from "../shared/zod";

/** The audit API's response shapes (documentation: the entry and checkpoint formats are docs/audit-log-format.md). */

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);

export const AuditEntry = z
  .object({
    v: z.literal(1),
    kind: z.literal("entry"),
    orgId: z.string(),
    seq: z.number().int().min(1),
    time: z.string(),
    action: z.enum(["insert", "modify", "remove"]),
    entity: z.object({ type: z.string(), id: z.string() }),
    actor: z.string().nullable(),
    summary: z.object({
      fields: z.array(z.string()),
      redacted: z.array(z.string()),
      before: z.record(z.string(), z.unknown()),
      after: z.record(z.string(), z.unknown()),
    }),
    source: z.object({ eventId: z.string(), sequenceNumber: z.string() }),
    prevHash: Hex64,
    hash: Hex64,
  })
  .meta({ id: "AuditEntry", description: "One entry of an organization's hash chain (docs/audit-log-format.md section 2)" });

export const AuditCheckpoint = z
  .object({
    v: z.literal(1),
    kind: z.literal("checkpoint"),
    orgId: z.string(),
    seq: z.number().int().min(1),
    hash: Hex64,
    time: z.string(),
    keyId: z.string(),
    signature: z.string(),
  })
  .meta({ id: "AuditCheckpoint", description: "An Ed25519-signed statement of a chain's head (section 7)" });

const LostRange = z
  .object({
    shardId: z.string(),
    fromSequenceNumber: z.string(),
    toSequenceNumber: z.string(),
    firstRecordAt: z.string().nullable(),
    lastRecordAt: z.string().nullable(),
    recordedAt: z.string(),
    reason: z.string(),
  })
  .meta({ id: "AuditLostRange", description: "Stream records the audit consumer could not deliver and the stream no longer holds" });

/** Whether every change the platform knows of is in the chain; `valid` is about integrity only. */
export const AuditCoverage = z
  .object({
    complete: z.boolean().meta({ description: "No change known to be missing: nothing pending, nothing lost" }),
    pending: z.number().int().meta({ description: "Changes of this organization whose append failed and that are not in the chain yet (retried and redriven automatically)" }),
    pendingMore: z.boolean().meta({ description: "More pending markers exist than were counted" }),
    pendingSince: z.string().nullable().meta({ description: "When the oldest pending change first failed" }),
    lost: z.array(LostRange).meta({ description: "Stream ranges lost beyond the stream's 24-hour retention since this organization exists (whose changes they held cannot be known)" }),
  })
  .meta({ id: "AuditCoverage" });

export const AuditVerification = z
  .object({
    orgId: z.string(),
    valid: z.boolean(),
    length: z.number().int().meta({ description: "Entries that verified, up to just before firstInvalidSeq" }),
    head: Hex64.nullable().meta({ description: "Hash of the last of those entries" }),
    firstInvalidSeq: z.number().int().nullable(),
    reason: z.string().nullable().meta({ description: "A reason of docs/audit-log-format.md section 9, or head_mismatch" }),
    message: z.string().nullable(),
    checkpoints: z.object({
      total: z.number().int(),
      verified: z.number().int(),
      signaturesVerified: z.number().int(),
      lastSeq: z.number().int().nullable(),
    }),
    unsignedFromSeq: z
      .number()
      .int()
      .nullable()
      .meta({ description: "First entry after the last verified checkpoint: protected by the chain only" }),
    coverage: AuditCoverage,
  })
  .meta({ id: "AuditVerification" });

export const AuditPublicKey = z
  .object({
    algorithm: z.literal("Ed25519"),
    keyId: z.string(),
    publicKey: z.string().meta({ description: "Base64 of the raw 32-byte public key (for audit:verify --public-key)" }),
    keys: z.array(z.object({ keyId: z.string(), publicKey: z.string(), registeredAt: z.string().nullable() })),
  })
  .meta({ id: "AuditPublicKey" });

export type AuditVerification = z.infer<typeof AuditVerification>;
export type AuditCoverage = z.infer<typeof AuditCoverage>;
export type AuditPublicKey = z.infer<typeof AuditPublicKey>;
