import type { Page } from "../tenants/ports";
import type { AuditEntry, Checkpoint } from "./entry";

/**
 * The audit log's persistence ports (adapter: core/db/audit.repository.ts). Storage layout and the
 * reasons behind it: docs/audit-operations.md.
 */

/** A tenant's chain head as stored: where the next append continues, and when it was last signed. */
export interface ChainState {
  seq: number;
  hash: string;
  /** Seq of the newest checkpoint (0: none yet). */
  lastCheckpointSeq: number;
  /** Time of the newest checkpoint (null: none yet). */
  lastCheckpointTime: string | null;
}

/** One append of a tenant, committed all or nothing. */
export interface AppendCommit {
  orgId: string;
  /** The head the append was built on (null: the chain is empty); the commit fails if it moved. */
  expected: ChainState | null;
  /** Consecutive entries after `expected`; each also records its stream record as seen. */
  entries: AuditEntry[];
  /** The head after the append. */
  head: ChainState;
  /** A checkpoint of the new head, when one is due. */
  checkpoint: Checkpoint | null;
}

/**
 * `conflict`: another writer moved the head, or recorded one of the stream records, first. Nothing
 * was written; re-read the head and the recorded events, and build again.
 */
export type CommitOutcome = "committed" | "conflict";

export interface EntryPageRequest {
  limit: number;
  cursor?: string;
  /** Oldest first from this seq; without it, newest first. */
  fromSeq?: number;
}

/** A tenant's stream record that is known but not in its log yet (an append of it failed). */
export interface PendingRecord {
  eventId: string;
  sequenceNumber: string;
  /** When it first failed (kept across later failures). */
  since?: string;
  lastError?: string;
}

export interface AuditStore {
  /** The tenant's chain head (strongly consistent), or null before its first entry. */
  head(orgId: string): Promise<ChainState | null>;
  /** Which of these stream records already have an entry (strongly consistent). */
  recordedEvents(orgId: string, eventIds: readonly string[]): Promise<Set<string>>;
  /** Entries, their source markers, the head and the checkpoint in one transaction, conditional on `expected`. */
  commit(append: AppendCommit): Promise<CommitOutcome>;
  /**
   * A page of entries as stored. Values are `unknown`: storage can be tampered with, and only a
   * verifier may call them entries.
   */
  listEntries(orgId: string, page: EntryPageRequest): Promise<Page<unknown>>;
  /** A page of checkpoints as stored, newest first. */
  listCheckpoints(orgId: string, page: { limit: number; cursor?: string }): Promise<Page<unknown>>;
  /**
   * Every entry in sort key (seq) order, a page at a time, so a long chain never sits in memory whole;
   * with `toSeq`, only the entries stored at seq 1 to `toSeq` (a snapshot up to a head read before).
   */
  entryPages(orgId: string, range?: { toSeq?: number }): AsyncIterable<unknown[]>;
  /** The seq in the sort key of the tenant's last stored entry item (null: none), whatever its content. */
  lastEntrySeq(orgId: string): Promise<number | null>;
  /** Every checkpoint in seq order, a page at a time. */
  checkpointPages(orgId: string): AsyncIterable<unknown[]>;
  /**
   * Marks records as pending (known, not in the log yet). Called when an append fails, and again on
   * every later failure, which keeps the marker alive (it expires a week after the last failure, and
   * never before the source marker of a record that did get its entry).
   */
  markPending(orgId: string, records: readonly PendingRecord[], error: string): Promise<void>;
  /** Removes pending markers of records that now have their entry. */
  clearPending(orgId: string, eventIds: readonly string[]): Promise<void>;
  /** Live pending markers (oldest key first), at most `limit`; `more` if there are others. */
  pendingMarkers(orgId: string, limit: number): Promise<{ markers: PendingRecord[]; more: boolean }>;
  /** Whether the organization was purged (`npm run org:purge`): its deletions are not audited. */
  isPurged(orgId: string): Promise<boolean>;
}

/** A checkpoint signing key's public half, as published at GET /api/v1/audit/public-key. */
export interface AuditKeyRecord {
  keyId: string;
  /** Base64 of the raw 32-byte Ed25519 public key. */
  publicKey: string;
  /** When a consumer first signed with it: the newest is the current key. */
  registeredAt: string;
}

/** Public keys by keyId. Keys are only added: checkpoints signed before a rotation stay verifiable. */
export interface AuditKeyRegistry {
  /** Idempotent: registering a known keyId keeps the first record. */
  register(key: AuditKeyRecord): Promise<void>;
  list(): Promise<AuditKeyRecord[]>;
}

/**
 * A range of a stream shard that a consumer could not deliver and that the stream no longer holds
 * (records are kept 24 hours): its changes are lost to the consumer. Recorded by the redrive of the
 * consumer's failure queue.
 */
export interface LostStreamRange {
  consumer: string;
  shardId: string;
  fromSequenceNumber: string;
  toSequenceNumber: string;
  /** The batch's records' approximate arrival times, when the failure message names them. */
  firstRecordAt: string | null;
  lastRecordAt: string | null;
  /** When the loss was found. */
  recordedAt: string;
  reason: string;
}

/** Where lost ranges are kept (a platform item per range). */
export interface StreamLossLog {
  /** Idempotent per (consumer, shard, first sequence number). */
  record(range: LostStreamRange): Promise<void>;
  list(consumer: string): Promise<LostStreamRange[]>;
}
