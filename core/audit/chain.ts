import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from "node:crypto";
import { invalidInput } from "../errors";
import {
  AUDIT_FORMAT_VERSION,
  GENESIS_HASH,
  canonicalJson,
  hashEntry,
  type AuditChange,
  type AuditEntry,
  type Checkpoint,
  type CheckpointBody,
  type UnhashedEntry,
} from "./entry";

/**
 * Building, signing and verifying the per-tenant hash chain (format: docs/audit-log-format.md).
 * Everything here is pure apart from the key material passed in.
 */

/** The last entry of a chain: where the next append continues. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * Places changes of one organization after `head` (null: the chain is empty): consecutive seqs,
 * each `prevHash` the hash of the entry before, each `hash` computed.
 *
 * @throws DomainError `audit_chain_invalid` if the changes belong to more than one organization or
 * `head` is not a valid head: a chain is per tenant, and mixing them would be silent corruption.
 */
export function appendEntries(head: ChainHead | null, changes: readonly AuditChange[]): AuditEntry[] {
  if (head && (!isPositiveSeq(head.seq) || !HEX64.test(head.hash))) {
    throw invalidInput("Chain head must have a positive integer seq and a 64-digit lowercase hex hash.", [], "audit_chain_invalid");
  }
  const orgIds = new Set(changes.map((change) => change.orgId));
  if (orgIds.size > 1) {
    throw invalidInput(`One append may only hold one organization's changes, got ${[...orgIds].join(", ")}.`, [], "audit_chain_invalid");
  }
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  return changes.map((change) => {
    // A copy, so that an entry never shares (mutable) objects with the change it came from.
    const { orgId, time, action, entity, actor, summary, source } = structuredClone(change);
    seq += 1;
    const unhashed: UnhashedEntry = { v: AUDIT_FORMAT_VERSION, kind: "entry", orgId, seq, time, action, entity, actor, summary, source, prevHash };
    const entry: AuditEntry = { ...unhashed, hash: hashEntry(unhashed) };
    prevHash = entry.hash;
    return entry;
  });
}

/** The bytes a checkpoint signature covers: UTF-8 of JCS(checkpoint without `signature`). */
export function checkpointSigningBytes(body: CheckpointBody): Buffer {
  return Buffer.from(canonicalJson(body), "utf8");
}

/**
 * Signs "the chain of `orgId` had head `hash` at `seq`" with Ed25519.
 *
 * @param privateKey an Ed25519 private KeyObject, or the base64 of its raw 32-byte seed
 */
export function signCheckpoint(
  privateKey: KeyObject | string,
  head: { orgId: string; seq: number; hash: string; time: string },
): Checkpoint {
  const key = typeof privateKey === "string" ? privateKeyFromSeed(privateKey) : privateKey;
  const body: CheckpointBody = {
    v: AUDIT_FORMAT_VERSION,
    kind: "checkpoint",
    orgId: head.orgId,
    seq: head.seq,
    hash: head.hash,
    time: head.time,
    keyId: keyIdOf(createPublicKey(key)),
  };
  const signature = sign(null, checkpointSigningBytes(body), key).toString("base64");
  return { ...body, signature };
}

// --- keys ------------------------------------------------------------------------------------------

/** DER prefixes that wrap a raw Ed25519 key (RFC 8410): node reads PKCS#8/SPKI, the format speaks raw. */
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** Decodes canonical, padded base64 of exactly `length` bytes; anything else is rejected, not repaired. */
function strictBase64(text: string, length: number, what: string): Buffer {
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== length || bytes.toString("base64") !== text) {
    throw invalidInput(`${what} must be canonical base64 of ${length} bytes.`, [], "audit_key_invalid");
  }
  return bytes;
}

/** An Ed25519 private key from the base64 of its raw 32-byte seed (RFC 8032's "private key"). */
export function privateKeyFromSeed(seedBase64: string): KeyObject {
  const seed = strictBase64(seedBase64, 32, "An Ed25519 seed");
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: "der", type: "pkcs8" });
}

/** An Ed25519 public key from the base64 of its raw 32 bytes: the format's only public key encoding. */
export function publicKeyFromBase64(publicKeyBase64: string): KeyObject {
  const raw = strictBase64(publicKeyBase64, 32, "An Ed25519 public key");
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
}

/** The base64 of a public key's raw 32 bytes (accepts a private key and uses its public half). */
export function publicKeyToBase64(key: KeyObject): string {
  const pub = key.type === "private" ? createPublicKey(key) : key;
  const spki = pub.export({ format: "der", type: "spki" });
  return spki.subarray(SPKI_ED25519_PREFIX.length).toString("base64");
}

/** First 16 lowercase hex digits of SHA-256 over the raw public key. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const raw = typeof publicKey === "string" ? strictBase64(publicKey, 32, "An Ed25519 public key") : Buffer.from(publicKeyToBase64(publicKey), "base64");
  return createHash("sha256").update(raw).digest("hex").slice(0, 16);
}

/** A new signing key pair, both halves as base64 of their raw 32 bytes. */
export function generateAuditKeyPair(): { privateKey: string; publicKey: string; keyId: string } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const der = privateKey.export({ format: "der", type: "pkcs8" });
  const publicKey = publicKeyToBase64(privateKey);
  return { privateKey: der.subarray(PKCS8_ED25519_PREFIX.length).toString("base64"), publicKey, keyId: keyIdOf(publicKey) };
}

// --- verification ----------------------------------------------------------------------------------

/** Why a chain failed; the meaning of each is part of the format document. */
export type VerifyFailureReason =
  | "malformed_entry"
  | "org_mismatch"
  | "seq_mismatch"
  | "prev_hash_mismatch"
  | "hash_mismatch"
  | "malformed_checkpoint"
  | "checkpoint_org_mismatch"
  | "checkpoint_beyond_head"
  | "checkpoint_hash_mismatch"
  | "checkpoint_key_mismatch"
  | "checkpoint_signature_invalid";

export interface VerifyResult {
  valid: boolean;
  /** Entries that can be trusted: seq 1 up to just before `firstInvalidSeq` (all of them when valid). */
  length: number;
  /** Last of those entries; null when there is none. */
  head: ChainHead | null;
  /** The lowest seq from which the log cannot be trusted; null when valid. */
  firstInvalidSeq: number | null;
  reason: VerifyFailureReason | null;
  /** A sentence for people; not part of the contract. */
  message: string | null;
  /** Checkpoints whose hash matched the chain, and how many of those had their signature verified. */
  checkpoints: { verified: number; signaturesVerified: number };
}

interface Failure {
  seq: number;
  reason: VerifyFailureReason;
  message: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const KEY_ID = /^[0-9a-f]{16}$/;
/** RFC 3339 UTC with exactly three fraction digits: what `Date.prototype.toISOString` writes. */
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const ENTRY_MEMBERS = ["action", "actor", "entity", "hash", "kind", "orgId", "prevHash", "seq", "source", "summary", "time", "v"];
const CHECKPOINT_MEMBERS = ["hash", "keyId", "kind", "orgId", "seq", "signature", "time", "v"];
const ACTIONS = new Set(["insert", "modify", "remove"]);

/**
 * Verifies one organization's chain and its checkpoints: entries must run 1, 2, 3... in order, each
 * linked to the previous by `prevHash`, each `hash` recomputed; every checkpoint must name an entry
 * of the chain with the same hash and, when `publicKey` is given, carry a valid signature by it.
 * Input is what an export holds (plain objects, no storage keys); anything else fails as malformed.
 *
 * @param publicKey the checkpoint key (KeyObject or base64 of the raw 32 bytes); without it, signatures are not checked
 * @param options.orgId the organization the chain must belong to (default: the first entry's)
 * @returns the failure with the lowest seq, if any
 * @throws DomainError `audit_key_invalid` when `publicKey` is a string but not base64 of 32 bytes
 */
export function verifyChain(
  entries: readonly unknown[],
  checkpoints: readonly unknown[],
  publicKey?: KeyObject | string | null,
  options: { orgId?: string } = {},
): VerifyResult {
  const key = typeof publicKey === "string" ? publicKeyFromBase64(publicKey) : (publicKey ?? null);
  const firstOrg = isRecord(entries[0]) && typeof entries[0].orgId === "string" ? entries[0].orgId : undefined;
  const orgId = options.orgId ?? firstOrg;

  const hashes: string[] = []; // hashes[seq - 1], for the verified prefix
  let entryFailure: Failure | null = null;
  for (const entry of entries) {
    const expected = hashes.length + 1;
    entryFailure = checkEntry(entry, expected, (seq) => hashes[seq - 1], orgId);
    if (entryFailure) break;
    hashes.push((entry as AuditEntry).hash);
  }

  const failures: Failure[] = entryFailure ? [entryFailure] : [];
  const keyId = key ? keyIdOf(key) : null;
  const chainOrg = orgId ?? (isRecord(checkpoints[0]) ? checkpoints[0].orgId : undefined);
  let verified = 0;
  let signaturesVerified = 0;
  for (const checkpoint of checkpoints) {
    const failure = checkCheckpoint(checkpoint, hashes, chainOrg, entryFailure !== null, key, keyId);
    if (failure === "skip") continue;
    if (failure) {
      failures.push(failure);
      continue;
    }
    verified += 1;
    if (key) signaturesVerified += 1;
  }

  // The earliest failure says from where the log is untrusted; on a tie the entry's own reason is the clearer one.
  const first = failures.reduce<Failure | null>((best, f) => (best === null || f.seq < best.seq ? f : best), null);
  // Only entries before the first invalid seq are vouched for, even if later links happened to verify.
  const length = first ? Math.min(hashes.length, first.seq - 1) : hashes.length;
  return {
    valid: first === null,
    length,
    head: length ? { seq: length, hash: hashes[length - 1]! } : null,
    firstInvalidSeq: first?.seq ?? null,
    reason: first?.reason ?? null,
    message: first?.message ?? null,
    checkpoints: { verified, signaturesVerified },
  };
}

/**
 * Checks one entry against the verified prefix. The entry's own hash comes first: a changed seq or
 * prevHash then shows as what it is, a changed entry, and only intact entries are judged by position.
 */
export function checkEntry(
  entry: unknown,
  expected: number,
  hashAt: (seq: number) => string | undefined,
  orgId: string | undefined,
): Failure | null {
  const malformed = describeMalformedEntry(entry);
  if (malformed) return { seq: expected, reason: "malformed_entry", message: `Entry at seq ${expected}: ${malformed}.` };
  const e = entry as AuditEntry;
  let hash: string;
  try {
    hash = hashEntry(e);
  } catch (error) {
    return { seq: expected, reason: "malformed_entry", message: `Entry at seq ${expected} cannot be canonicalized: ${(error as Error).message}.` };
  }
  if (hash !== e.hash) {
    return { seq: expected, reason: "hash_mismatch", message: `The entry at seq ${expected} does not match its hash: its content was changed.` };
  }
  if (orgId !== undefined && e.orgId !== orgId) {
    return { seq: expected, reason: "org_mismatch", message: `The entry at seq ${expected} belongs to '${e.orgId}', not '${orgId}'.` };
  }
  if (e.seq !== expected) return seqMismatch(e, expected, hashAt);
  const prevHash = hashAt(expected - 1) ?? GENESIS_HASH;
  if (e.prevHash !== prevHash) {
    // Either this entry or the one before it was replaced; the earlier of the two is where trust ends.
    return {
      seq: Math.max(1, expected - 1),
      reason: "prev_hash_mismatch",
      message: `Entry ${expected} does not link to entry ${expected - 1}: one of them was replaced.`,
    };
  }
  return null;
}

/**
 * An intact entry in the wrong place. Ahead of its position: entries are missing. Behind it: either a
 * repeated line (same hash as the entry verified at that seq) or a second, different entry with that
 * seq, a fork, which makes the log untrustworthy from that seq on.
 */
function seqMismatch(e: AuditEntry, expected: number, hashAt: (seq: number) => string | undefined): Failure {
  if (e.seq > expected) {
    return { seq: expected, reason: "seq_mismatch", message: `Expected seq ${expected}, found seq ${e.seq}: entries are missing or out of order.` };
  }
  if (hashAt(e.seq) === e.hash) {
    return { seq: expected, reason: "seq_mismatch", message: `Expected seq ${expected}, found a repeat of seq ${e.seq}.` };
  }
  return { seq: e.seq, reason: "seq_mismatch", message: `Expected seq ${expected}, found a second, different entry with seq ${e.seq}.` };
}

function checkCheckpoint(
  checkpoint: unknown,
  hashes: readonly string[],
  orgId: unknown,
  entriesFailed: boolean,
  key: KeyObject | null,
  keyId: string | null,
): Failure | "skip" | null {
  const malformed = describeMalformedCheckpoint(checkpoint);
  if (malformed) {
    const seq = isRecord(checkpoint) && isPositiveSeq(checkpoint.seq) ? checkpoint.seq : hashes.length + 1;
    return { seq, reason: "malformed_checkpoint", message: `Checkpoint: ${malformed}.` };
  }
  const c = checkpoint as Checkpoint;
  if (orgId !== undefined && c.orgId !== orgId) {
    return { seq: c.seq, reason: "checkpoint_org_mismatch", message: `Checkpoint at seq ${c.seq} belongs to '${c.orgId}'.` };
  }
  if (c.seq > hashes.length) {
    // Past a broken entry nothing can be compared: the entry's failure already covers this seq.
    if (entriesFailed) return "skip";
    return {
      seq: hashes.length + 1,
      reason: "checkpoint_beyond_head",
      message: `Checkpoint at seq ${c.seq} but the chain ends at seq ${hashes.length}: entries are missing at the end.`,
    };
  }
  if (hashes[c.seq - 1] !== c.hash) {
    return { seq: c.seq, reason: "checkpoint_hash_mismatch", message: `Checkpoint at seq ${c.seq} names another hash than the chain's.` };
  }
  if (!key) return null;
  if (c.keyId !== keyId) {
    return { seq: c.seq, reason: "checkpoint_key_mismatch", message: `Checkpoint at seq ${c.seq} was signed by key ${c.keyId}, not ${keyId}.` };
  }
  const { signature, ...body } = c;
  if (!verify(null, checkpointSigningBytes(body), key, Buffer.from(signature, "base64"))) {
    return { seq: c.seq, reason: "checkpoint_signature_invalid", message: `Checkpoint at seq ${c.seq} has an invalid signature.` };
  }
  return null;
}

/** Why a stored entry is not an entry of this format (shape only), or null. Shared with chain-verifier.ts. */
export function describeMalformedEntry(entry: unknown): string | null {
  if (!isRecord(entry)) return "not an object";
  const members = exactMembers(entry, ENTRY_MEMBERS);
  if (members) return members;
  if (entry.v !== AUDIT_FORMAT_VERSION) return `unsupported version ${JSON.stringify(entry.v)}`;
  if (entry.kind !== "entry") return "kind is not 'entry'";
  if (!isNonEmptyString(entry.orgId)) return "orgId is not a non-empty string";
  if (!isPositiveSeq(entry.seq)) return "seq is not a positive integer";
  if (!isIsoTime(entry.time)) return "time is not ISO-8601 UTC with milliseconds";
  if (typeof entry.action !== "string" || !ACTIONS.has(entry.action)) return "action is not insert, modify or remove";
  if (!isRecord(entry.entity) || exactMembers(entry.entity, ["id", "type"]) || typeof entry.entity.type !== "string" || typeof entry.entity.id !== "string") {
    return "entity is not { type, id } with string members";
  }
  if (entry.actor !== null && typeof entry.actor !== "string") return "actor is neither a string nor null";
  const s = entry.summary;
  if (
    !isRecord(s) ||
    exactMembers(s, ["after", "before", "fields", "redacted"]) ||
    !isStringArray(s.fields) ||
    !isStringArray(s.redacted) ||
    !isRecord(s.before) ||
    !isRecord(s.after)
  ) {
    return "summary is not { fields, redacted, before, after }";
  }
  const src = entry.source;
  if (!isRecord(src) || exactMembers(src, ["eventId", "sequenceNumber"]) || typeof src.eventId !== "string" || typeof src.sequenceNumber !== "string") {
    return "source is not { eventId, sequenceNumber } with string members";
  }
  if (typeof entry.prevHash !== "string" || !HEX64.test(entry.prevHash)) return "prevHash is not 64 lowercase hex digits";
  if (typeof entry.hash !== "string" || !HEX64.test(entry.hash)) return "hash is not 64 lowercase hex digits";
  return null;
}

/** Why a stored checkpoint is not a checkpoint of this format (shape only), or null. */
export function describeMalformedCheckpoint(checkpoint: unknown): string | null {
  if (!isRecord(checkpoint)) return "not an object";
  const members = exactMembers(checkpoint, CHECKPOINT_MEMBERS);
  if (members) return members;
  if (checkpoint.v !== AUDIT_FORMAT_VERSION) return `unsupported version ${JSON.stringify(checkpoint.v)}`;
  if (checkpoint.kind !== "checkpoint") return "kind is not 'checkpoint'";
  if (!isNonEmptyString(checkpoint.orgId)) return "orgId is not a non-empty string";
  if (!isPositiveSeq(checkpoint.seq)) return "seq is not a positive integer";
  if (typeof checkpoint.hash !== "string" || !HEX64.test(checkpoint.hash)) return "hash is not 64 lowercase hex digits";
  if (!isIsoTime(checkpoint.time)) return "time is not ISO-8601 UTC with milliseconds";
  if (typeof checkpoint.keyId !== "string" || !KEY_ID.test(checkpoint.keyId)) return "keyId is not 16 lowercase hex digits";
  if (typeof checkpoint.signature !== "string") return "signature is not a string";
  try {
    strictBase64(checkpoint.signature, 64, "signature");
  } catch {
    // Lenient base64 would let a changed padding character or stray byte pass: only one spelling is valid.
    return "signature is not canonical base64 of 64 bytes";
  }
  return null;
}

function exactMembers(value: Record<string, unknown>, names: readonly string[]): string | null {
  const keys = Object.keys(value);
  const extra = keys.filter((k) => !names.includes(k));
  if (extra.length) return `unexpected member ${JSON.stringify(extra[0])}`;
  const missing = names.filter((n) => !(n in value));
  if (missing.length) return `missing member ${JSON.stringify(missing[0])}`;
  return null;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
export function isPositiveSeq(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 1;
}
function isNonEmptyString(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}
function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === "string");
}
function isIsoTime(value: unknown): value is string {
  // The round trip also rejects dates that do not exist (02-30), which Date.parse would roll over.
  return typeof value === "string" && ISO_MS.test(value) && Number.isFinite(Date.parse(value)) && new Date(value).toISOString() === value;
}

/** An export: one JCS-encoded record a line, entries in seq order, then checkpoints. */
export function toJsonLines(entries: readonly AuditEntry[], checkpoints: readonly Checkpoint[] = []): string {
  return [...entries, ...checkpoints].map((record) => `${canonicalJson(record)}\n`).join("");
}
