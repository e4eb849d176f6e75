import { conflict } from "../errors";
import { type Clock, systemClock } from "../shared/clock";
import { appendEntries, keyIdOf, privateKeyFromSeed, publicKeyToBase64, signCheckpoint } from "./chain";
import { canonicalJson, type AuditChange, type Checkpoint } from "./entry";
import type { AuditKeyRegistry, AuditStore, ChainState } from "./ports";
import { toAuditChange, type StreamChangeRecord } from "./summarize";

/**
 * The writer of the audit log: turns a batch of table stream records into entries of each tenant's
 * hash chain. Idempotent (a redelivered record is recognized by its eventId), serialized per tenant
 * by a conditional write on the chain head, and safe to crash anywhere: every append is one
 * transaction. The reasoning is written down in docs/audit-operations.md.
 */

/**
 * TransactWriteItems holds at most 100 items. An append writes, per record, its entry and its source
 * marker, plus the head and possibly a checkpoint: 2 x 49 + 2 = 100.
 */
export const MAX_RECORDS_PER_APPEND = 49;
/**
 * A transaction carries at most 4 MB. Entries are estimated by their canonical JSON (what is stored);
 * this leaves room for keys, markers and the head.
 */
export const MAX_APPEND_BYTES = 3_000_000;

export const AUDIT_DEFAULTS = {
  /** A checkpoint once this many entries follow the last one... */
  checkpointEvery: 100,
  /** ...or when an append comes this many seconds after the last one, whichever is first. */
  checkpointSeconds: 300,
  /** Attempts of one append that keeps losing races before the records are reported failed. */
  maxAttempts: 10,
  /** Tenants of a batch appended at the same time (each tenant's own records stay in order). */
  concurrency: 8,
} as const;

/** Pending markers one instance remembers per tenant, to clear them when their records are appended. */
const MARKED_LIMIT = 10_000;

/** Tenants whose head one consumer instance remembers (oldest forgotten first). */
const HEAD_CACHE_SIZE = 10_000;

export interface AuditConsumerDeps {
  store: AuditStore;
  keys: AuditKeyRegistry;
  /** Base64 of the raw 32-byte Ed25519 seed that signs checkpoints. */
  signingKey: string;
  clock?: Clock;
  checkpointEvery?: number;
  checkpointSeconds?: number;
  maxAttempts?: number;
  concurrency?: number;
  /** Waits between attempts; injectable so tests do not sleep. */
  sleep?: (ms: number) => Promise<void>;
  log?: (message: string, details: Record<string, unknown>) => void;
}

export interface ConsumeResult {
  /** Entries written by this call. */
  appended: number;
  /** Records not audited: other items, ignored types, bookkeeping-only changes, already recorded ones. */
  skipped: number;
  /**
   * Sequence numbers of records that must be delivered again: for each tenant whose append failed,
   * its first record not in the log. The event source mapping retries from the lowest of them, so
   * everything after it comes again and is recognized as recorded.
   */
  failed: string[];
}

interface Pending {
  change: AuditChange | null;
  eventId: string;
  /** Why the record cannot be turned into an entry (it is retried, then parked by the mapping). */
  error?: Error;
  sequenceNumber: string;
  size: number;
}

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createAuditConsumer(deps: AuditConsumerDeps) {
  const {
    store,
    clock = systemClock,
    checkpointEvery = AUDIT_DEFAULTS.checkpointEvery,
    checkpointSeconds = AUDIT_DEFAULTS.checkpointSeconds,
    maxAttempts = AUDIT_DEFAULTS.maxAttempts,
    concurrency = AUDIT_DEFAULTS.concurrency,
    sleep = sleepFor,
    log = () => undefined,
  } = deps;
  const privateKey = privateKeyFromSeed(deps.signingKey);
  const publicKey = publicKeyToBase64(privateKey);
  const keyId = keyIdOf(publicKey);
  let registered: Promise<void> | undefined;
  /**
   * Heads this instance committed. An append first tries optimistically on the
   * cached head without reading the source markers; the transaction's conditions make that safe, and
   * a conflict (another writer, or a redelivered record) falls back to reading both. Saves two reads
   * per append on the usual path: one writer per tenant, records delivered once.
   */
  const heads = new Map<string, ChainState>();
  /**
   * Records this instance marked pending (by tenant): when one of them is appended later, its
   * marker is removed at once instead of waiting for it to expire.
   */
  const marked = new Map<string, Set<string>>();
  const rememberHead = (orgId: string, head: ChainState) => {
    heads.delete(orgId);
    heads.set(orgId, head);
    if (heads.size > HEAD_CACHE_SIZE) heads.delete(heads.keys().next().value!);
  };

  /** The public key is published before the first checkpoint it signs can be read. */
  function registerKey(): Promise<void> {
    registered ??= deps.keys.register({ keyId, publicKey, registeredAt: clock.now().toISOString() }).catch((error: unknown) => {
      registered = undefined;
      throw error;
    });
    return registered;
  }

  function checkpointDue(head: ChainState | null, seq: number, now: Date): boolean {
    if (!head || head.lastCheckpointSeq === 0) return true; // a log's first append is signed at once
    if (seq - head.lastCheckpointSeq >= checkpointEvery) return true;
    return head.lastCheckpointTime !== null && now.getTime() - Date.parse(head.lastCheckpointTime) >= checkpointSeconds * 1000;
  }

  /**
   * The next append of a tenant: the first changes of `pending` not recorded yet, at most
   * MAX_RECORDS_PER_APPEND and MAX_APPEND_BYTES, and never past the seq where the next checkpoint is
   * due, so checkpoints are at most `checkpointEvery` entries apart. Retries lost races from the new
   * head. Returns how many of `pending` are now in the log (appended here or found recorded).
   */
  async function appendNext(orgId: string, pending: Pending[]): Promise<{ done: number; appended: number; skipped: number }> {
    let count = 1; // the first record always goes, however large: alone it fits an item (or fails as itself)
    for (let bytes = pending[0]!.size; count < Math.min(pending.length, MAX_RECORDS_PER_APPEND); count += 1) {
      bytes += pending[count]!.size;
      if (bytes > MAX_APPEND_BYTES) break;
    }
    const window = pending.slice(0, count);

    for (let attempt = 1; ; attempt += 1) {
      const optimistic = attempt === 1;
      const [head, recorded] = await Promise.all([
        (optimistic && heads.get(orgId)) || store.head(orgId),
        optimistic ? new Set<string>() : store.recordedEvents(orgId, window.map((p) => p.change!.source.eventId)),
      ]);
      // Records already in the log count as done; within the window, a repeated eventId only once.
      const seen = new Set(recorded);
      const fresh: AuditChange[] = [];
      let taken = 0;
      const room = head && head.lastCheckpointSeq > 0 ? Math.max(1, head.lastCheckpointSeq + checkpointEvery - head.seq) : window.length;
      for (; taken < window.length && fresh.length < room; taken += 1) {
        const change = window[taken]!.change!;
        if (seen.has(change.source.eventId)) continue;
        seen.add(change.source.eventId);
        fresh.push(change);
      }
      if (fresh.length === 0) return { done: taken, appended: 0, skipped: taken };

      const entries = appendEntries(head && { seq: head.seq, hash: head.hash }, fresh);
      const last = entries.at(-1)!;
      const now = clock.now();
      let checkpoint: Checkpoint | null = null;
      if (checkpointDue(head, last.seq, now)) {
        await registerKey();
        checkpoint = signCheckpoint(privateKey, { orgId, seq: last.seq, hash: last.hash, time: now.toISOString() });
      }
      const next: ChainState = {
        seq: last.seq,
        hash: last.hash,
        lastCheckpointSeq: checkpoint ? last.seq : (head?.lastCheckpointSeq ?? 0),
        lastCheckpointTime: checkpoint ? checkpoint.time : (head?.lastCheckpointTime ?? null),
      };
      heads.delete(orgId); // unknown until the commit answers
      const outcome = await store.commit({ orgId, expected: head, entries, head: next, checkpoint });
      if (outcome === "committed") {
        rememberHead(orgId, next);
        await clearMarked(orgId, entries.map((e) => e.source.eventId));
        return { done: taken, appended: entries.length, skipped: taken - entries.length };
      }
      if (optimistic) continue; // a stale cached head or an already recorded record: read both, build again
      if (attempt >= maxAttempts) {
        throw conflict(`The audit chain of '${orgId}' kept moving: ${attempt} attempts lost the race for its head.`, "audit_chain_conflict");
      }
      log("audit append lost a race; retrying from the new head", { orgId, attempt });
      // Full jitter: two writers that collided once should not collide again in lockstep.
      await sleep(Math.random() * Math.min(1_000, 10 * 2 ** attempt));
    }
  }

  /** Removes the pending markers this instance wrote for records that are now in the log (best effort: they also expire). */
  async function clearMarked(orgId: string, eventIds: string[]) {
    const mine = marked.get(orgId);
    if (!mine) return;
    const done = eventIds.filter((id) => mine.has(id));
    if (!done.length) return;
    try {
      await store.clearPending(orgId, done);
      for (const id of done) mine.delete(id);
      if (mine.size === 0) marked.delete(orgId);
    } catch (error) {
      log("audit pending markers not cleared; they expire on their own", { orgId, error: error instanceof Error ? error.message : String(error) });
    }
  }

  /**
   * Makes a failure visible: the tenant's records from the failed one on are marked pending, so that
   * `verify` reports them as changes not yet in the log until a retry or a redrive appends them.
   * Best effort: when the database itself is down this fails too, and the records are marked by the
   * first attempt that reaches it again (retries and redrives come back here on every failure).
   */
  async function markPending(orgId: string, records: Pending[], error: string) {
    try {
      await store.markPending(orgId, records.map((r) => ({ eventId: r.eventId, sequenceNumber: r.sequenceNumber })), error);
      let mine = marked.get(orgId);
      if (!mine) marked.set(orgId, (mine = new Set()));
      for (const r of records) if (mine.size < MARKED_LIMIT) mine.add(r.eventId);
    } catch (markError) {
      log("audit records not marked pending", { orgId, records: records.length, error: markError instanceof Error ? markError.message : String(markError) });
    }
  }

  /** Appends one tenant's records in order; stops at the first that cannot be appended. */
  async function appendTenant(orgId: string, records: Pending[], result: ConsumeResult): Promise<void> {
    let i = 0;
    try {
      // A purge deletes the organization's items, audit log included; its REMOVE records must not
      // start a new chain for an organization that no longer exists. Only removals pay for the check.
      if (records.some((r) => r.change?.action === "remove") && (await store.isPurged(orgId))) {
        result.skipped += records.length;
        return;
      }
      while (i < records.length) {
        const poison = records.findIndex((p, k) => k >= i && p.change === null);
        const end = poison < 0 ? records.length : poison;
        if (i === end) throw records[i]!.error ?? new Error("unreadable stream record");
        const { done, appended, skipped } = await appendNext(orgId, records.slice(i, end));
        i += done;
        result.appended += appended;
        result.skipped += skipped;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log("audit append failed; the records will be delivered again", { orgId, sequenceNumber: records[i]!.sequenceNumber, error: message });
      result.failed.push(records[i]!.sequenceNumber);
      // A record that cannot even name its tenant has no log to be pending in (it is parked all the same).
      if (!orgId.startsWith("?")) await markPending(orgId, records.slice(i), message);
    }
  }

  return {
    keyId,
    publicKey,

    /**
     * Audits a batch of stream records (in stream order). Records of one tenant are appended in
     * their order; tenants are independent and run side by side.
     */
    async consume(records: readonly StreamChangeRecord[]): Promise<ConsumeResult> {
      const result: ConsumeResult = { appended: 0, skipped: 0, failed: [] };
      const byTenant = new Map<string, Pending[]>();
      for (const record of records) {
        let pending: Pending;
        let orgId: string | null;
        try {
          const change = toAuditChange(record);
          if (change === null) {
            result.skipped += 1;
            continue;
          }
          pending = { change, eventId: record.eventId, sequenceNumber: record.sequenceNumber, size: canonicalJson(change).length + 400 };
          orgId = change.orgId;
        } catch (error) {
          pending = { change: null, eventId: record.eventId, error: error as Error, sequenceNumber: record.sequenceNumber, size: 0 };
          orgId = tenantOf(record);
        }
        // A record that cannot even name its tenant is its own group, so it blocks no tenant's records.
        const group = orgId ?? `?${record.sequenceNumber}`;
        if (!byTenant.has(group)) byTenant.set(group, []);
        byTenant.get(group)!.push(pending);
      }

      const groups = [...byTenant.entries()];
      const workers = Array.from({ length: Math.min(concurrency, groups.length) }, async () => {
        for (let next = groups.shift(); next; next = groups.shift()) await appendTenant(next[0], next[1], result);
      });
      await Promise.all(workers);
      return result;
    },
  };
}

export type AuditConsumer = ReturnType<typeof createAuditConsumer>;

/** The tenant of a record that `toAuditChange` rejected, if any image names one. */
function tenantOf(record: StreamChangeRecord): string | null {
  const pk = (record.newImage ?? record.oldImage)?.pk;
  if (typeof pk !== "string" || !pk.startsWith("T#")) return null;
  return pk.slice(2).split("#", 1)[0] || null;
}
