import { createHash } from "node:crypto";
import canonicalize from "canonicalize";

/**
 * The audit log's record types and entry hashing. These shapes are a public contract, specified in
 * docs/audit-log-format.md: any change here is a new format version (`v`), never an edit of v1.
 */

/** Format version carried by every entry and checkpoint; verifiers reject versions they do not know. */
export const AUDIT_FORMAT_VERSION = 1;

/** `prevHash` of seq 1: there is no previous entry, and 64 zeros cannot be a real SHA-256 output by accident. */
export const GENESIS_HASH = "0".repeat(64);

export type AuditAction = "insert" | "modify" | "remove";

/** A JSON value as it appears in a summary: I-JSON only (finite numbers, well-formed strings). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What changed in one item, without secrets.
 * - `fields`: names of the changed attributes, sorted (bookkeeping attributes never appear).
 * - `redacted`: JSON Pointers (RFC 6901) of secret-named members whose value changed; their values are
 *   absent from `before`/`after`. A top-level secret attribute is `/name`.
 * - `before`/`after`: the values of `fields` in the old/new image. A name missing from one side means the
 *   attribute did not exist there (so `before` is `{}` for an insert and `after` is `{}` for a remove).
 */
export interface ChangeSummary {
  fields: string[];
  redacted: string[];
  before: Record<string, JsonValue>;
  after: Record<string, JsonValue>;
}

/** One audited change, before it has a place in the chain (the output of `toAuditChange`). */
export interface AuditChange {
  orgId: string;
  /** ISO-8601 UTC with milliseconds: when DynamoDB recorded the change (the stream record's time). */
  time: string;
  action: AuditAction;
  entity: { type: string; id: string };
  /** Who made the change, from the item's `updatedBy`; null when the change does not say. */
  actor: string | null;
  summary: ChangeSummary;
  /** The stream record this entry came from: lets the consumer drop redelivered records. */
  source: { eventId: string; sequenceNumber: string };
}

/** An entry as hashed, stored and exported. `hash` covers every other member. */
export interface AuditEntry extends AuditChange {
  v: typeof AUDIT_FORMAT_VERSION;
  kind: "entry";
  seq: number;
  prevHash: string;
  hash: string;
}

export type UnhashedEntry = Omit<AuditEntry, "hash">;

/** The signed statement "the chain of `orgId` had head `hash` at `seq`". */
export interface CheckpointBody {
  v: typeof AUDIT_FORMAT_VERSION;
  kind: "checkpoint";
  orgId: string;
  seq: number;
  hash: string;
  time: string;
  /** First 16 hex digits of SHA-256 over the raw 32-byte Ed25519 public key: says which key to verify with. */
  keyId: string;
}

/** A checkpoint with its Ed25519 signature (canonical base64, 64 bytes) over JCS(body). */
export interface Checkpoint extends CheckpointBody {
  signature: string;
}

/** One line of an export: entries and checkpoints tell themselves apart by `kind`. */
export type ExportRecord = AuditEntry | Checkpoint;

/**
 * RFC 8785 (JCS) canonical JSON of a value. Throws on values JCS cannot encode (NaN, Infinity, lone
 * surrogates), because hashing a lossy encoding would make two different entries collide.
 */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError("Value has no JSON encoding");
  return text;
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The hash of an entry: lowercase hex SHA-256 of the UTF-8 JCS encoding of the entry without `hash`.
 * Accepts a full entry too and ignores its `hash`, so verifiers can pass what they read.
 */
export function hashEntry(entry: UnhashedEntry | AuditEntry): string {
  const { hash: _ignored, ...body } = entry as AuditEntry;
  return sha256Hex(canonicalJson(body));
}
