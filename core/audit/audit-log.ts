import type { KeyObject } from "node:crypto";
import { type Principal } from "../auth/principal";
import { invalidInput, notFound } from "../errors";
import type { OrganizationStore, Page } from "../tenants/ports";
import type { AuditCoverage, AuditPublicKey, AuditVerification } from "./audit.schema";
import { isPositiveSeq, isRecord, keyIdOf, privateKeyFromSeed, publicKeyFromBase64, publicKeyToBase64 } from "./chain";
import { createChainVerifier } from "./chain-verifier";
import { canonicalJson } from "./entry";
import type { ActorNames } from "./actor-names";
import type { AuditKeyRecord, AuditKeyRegistry, AuditStore, LostStreamRange } from "./ports";

/**
 * The audit log as the API shows it: entries and checkpoints of one organization, its verification,
 * its export, and the public keys. Who may see which organization is decided here: the operator any
 * (named by `orgId`), an organization's key only its own (another id answers 404, like a missing one).
 */

export interface AuditLogDeps {
  store: AuditStore;
  keys: AuditKeyRegistry;
  orgs: Pick<OrganizationStore, "get">;
  /** The signing seed when this function holds it (the local runtime): its public half is served too. */
  signingKey?: string;
  /** Stream ranges the audit consumer lost (unset: none can be lost, as locally). */
  lostRanges?: () => Promise<LostStreamRange[]>;
  /** Display names of the entries' actors (actor-names.ts); unset: pages carry no `actorNames`. */
  actorNames?: ActorNames;
}

/** Pending markers `verify` reads at most (each costs a marker read and a source-marker lookup). */
export const PENDING_READ_LIMIT = 1_000;

export interface OrgScopeQuery {
  orgId?: string;
}

export function createAuditLog({ store, keys, orgs, signingKey, lostRanges, actorNames }: AuditLogDeps) {
  const local: AuditKeyRecord | null = signingKey
    ? (() => {
        const publicKey = publicKeyToBase64(privateKeyFromSeed(signingKey));
        return { keyId: keyIdOf(publicKey), publicKey, registeredAt: "" };
      })()
    : null;

  /** The organization a request reads: the key's own, or for the operator the one it names. */
  async function scope(principal: Principal, orgId: string | undefined): Promise<string> {
    if (principal.kind === "org") {
      if (orgId !== undefined && orgId !== principal.orgId) throw notFound("Organization", orgId);
      return principal.orgId;
    }
    if (orgId === undefined) {
      throw invalidInput("The operator reads one organization's audit log at a time: add ?orgId=<id>.", [
        { field: "orgId", message: "required with the operator key" },
      ], "org_id_required");
    }
    if (!(await orgs.get(orgId))) throw notFound("Organization", orgId);
    return orgId;
  }

  /** Every known public key, oldest first; the local runtime's own key even before a consumer registered it. */
  async function knownKeys(): Promise<AuditKeyRecord[]> {
    const registered = await keys.list();
    if (local && !registered.some((k) => k.keyId === local.keyId)) registered.push(local);
    return registered.sort((a, b) => (a.registeredAt < b.registeredAt ? -1 : a.registeredAt > b.registeredAt ? 1 : 0));
  }

  /**
   * Is every change known to the platform in the chain? Pending: markers of failed appends whose
   * record has no entry (source marker) yet. Lost: ranges the stream no longer held when they were
   * redriven, since the organization exists (nobody can tell whose changes they held).
   */
  async function coverage(orgId: string): Promise<AuditCoverage> {
    const [{ markers, more }, lost, org] = await Promise.all([
      store.pendingMarkers(orgId, PENDING_READ_LIMIT),
      lostRanges ? lostRanges() : Promise.resolve([]),
      lostRanges ? orgs.get(orgId) : Promise.resolve(null),
    ]);
    const recorded = markers.length ? await store.recordedEvents(orgId, markers.map((m) => m.eventId)) : new Set<string>();
    const open = markers.filter((m) => !recorded.has(m.eventId));
    const since = open.map((m) => m.since).filter((t): t is string => Boolean(t)).sort()[0] ?? null;
    const createdAt = (org as { createdAt?: unknown } | null)?.createdAt;
    const relevant = lost
      .filter((l) => typeof createdAt !== "string" || (l.lastRecordAt ?? l.recordedAt) >= createdAt)
      .map(({ consumer: _consumer, ...range }) => range);
    return { complete: open.length === 0 && !more && relevant.length === 0, pending: open.length, pendingMore: more, pendingSince: since, lost: relevant };
  }

  return {
    /**
     * Newest first, or oldest first from `fromSeq`. The entries are returned exactly as chained (a
     * client can re-hash them); the display names of their actors come beside them, in `actorNames`.
     */
    async entries(
      principal: Principal,
      query: OrgScopeQuery & { limit?: number; cursor?: string; fromSeq?: number },
    ): Promise<Page<unknown> & { actorNames?: Record<string, string> }> {
      const orgId = await scope(principal, query.orgId);
      const page = await store.listEntries(orgId, {
        limit: query.limit ?? 25,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.fromSeq ? { fromSeq: query.fromSeq } : {}),
      });
      if (!actorNames) return page;
      const actors = page.items.map((item) => (isRecord(item) && typeof item.actor === "string" ? item.actor : null));
      return { ...page, actorNames: await actorNames(orgId, actors) };
    },

    /** Newest first. */
    async checkpoints(principal: Principal, query: OrgScopeQuery & { limit?: number; cursor?: string }): Promise<Page<unknown>> {
      const orgId = await scope(principal, query.orgId);
      return store.listCheckpoints(orgId, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) });
    },

    /**
     * Recomputes the organization's chain from storage (docs/audit-log-format.md section 9), checks
     * every checkpoint against it and its signature against the published keys, and compares the
     * stored chain head with the entries (which catches a truncated tail after the last checkpoint).
     * Reads the chain a page at a time: memory is 32 bytes per entry.
     *
     * It verifies a consistent snapshot: the head is read first and only what it covers is verified.
     * The consumer writes entries, head and checkpoint in one transaction while this reads page by
     * page, so without a snapshot an append landing between the reads looks exactly like tampering
     * (a checkpoint beyond the entries read, a head beyond them). What lies beyond the snapshot is
     * judged against the head as it is after it was read: covered by it, it is a concurrent append
     * (verified next time); beyond even that head, it was not written by the consumer.
     *
     * `valid` is about integrity only; `coverage` says whether changes are known to be missing
     * (pending after a failure, or lost beyond the stream's retention).
     */
    async verify(principal: Principal, query: OrgScopeQuery): Promise<AuditVerification> {
      const orgId = await scope(principal, query.orgId);
      const publicKeys = new Map<string, KeyObject>();
      for (const key of await knownKeys()) publicKeys.set(key.keyId, publicKeyFromBase64(key.publicKey));
      const verifier = createChainVerifier({ orgId, publicKeys });

      let stored = await store.head(orgId);
      let headless = false;
      if (!stored && (await store.lastEntrySeq(orgId)) !== null) {
        // Entries but no head: a log's first append committed just now (read the head again), or the head was removed.
        stored = await store.head(orgId);
        headless = stored === null;
      }
      // Without a head there is no snapshot to take: everything stored is checked, as it is.
      const snapshotSeq = headless ? Number.POSITIVE_INFINITY : (stored?.seq ?? 0);

      let intact = 0;
      if (snapshotSeq > 0) {
        read: for await (const page of store.entryPages(orgId, headless ? undefined : { toSeq: snapshotSeq })) {
          for (const entry of page) {
            if (!verifier.addEntry(entry)) break read;
            intact += 1;
          }
        }
      }
      let total = 0;
      const later: { seq: number; checkpoint: unknown }[] = [];
      for await (const page of store.checkpointPages(orgId)) {
        for (const checkpoint of page) {
          const seq = seqOf(checkpoint);
          if (seq !== null && seq > snapshotSeq) later.push({ seq, checkpoint });
          else {
            total += 1;
            verifier.addCheckpoint(checkpoint);
          }
        }
      }
      // What lies beyond the snapshot, read before the head is read again (a transaction writes an
      // entry or checkpoint with the head that covers it, so a genuine one is covered by that head).
      const lastEntry = headless ? null : await store.lastEntrySeq(orgId);
      const beyond = Math.max(lastEntry ?? 0, ...later.map((l) => l.seq));
      const current = !headless && beyond > snapshotSeq ? await store.head(orgId) : stored;
      const currentSeq = current?.seq ?? 0;
      for (const { seq, checkpoint } of later) {
        if (seq <= currentSeq) continue; // a concurrent append signed it: outside this snapshot
        total += 1;
        verifier.addCheckpoint(checkpoint); // beyond any head: the verifier reports the missing tail
      }
      const result = verifier.result();

      // The head is written in the same transaction as the entries, so it must name the last of them.
      let headFailure: { seq: number; message: string } | null = null;
      if (headless) {
        headFailure = { seq: intact + 1, message: `The chain has ${intact} entries but no head item.` };
      } else if (stored && stored.seq > intact) {
        headFailure = { seq: intact + 1, message: `The chain head names seq ${stored.seq}, but the entries end at seq ${intact}: entries at the end were removed.` };
      } else if (lastEntry !== null && lastEntry > currentSeq) {
        headFailure = { seq: currentSeq + 1, message: `Entries follow the chain head (seq ${currentSeq}): they were not written by the audit consumer.` };
      } else if (stored && verifier.hashAt(stored.seq) !== stored.hash) {
        headFailure = { seq: stored.seq, message: `The chain head's hash differs from the entry at seq ${stored.seq}.` };
      }

      let { valid, length, firstInvalidSeq, message } = result;
      let reason: string | null = result.reason;
      let head = result.head?.hash ?? null;
      if (headFailure && (firstInvalidSeq === null || headFailure.seq < firstInvalidSeq)) {
        valid = false;
        firstInvalidSeq = headFailure.seq;
        reason = "head_mismatch";
        message = headFailure.message;
        length = Math.min(length, headFailure.seq - 1);
        head = length ? verifier.hashAt(length)! : null;
      }
      const lastSeq = Math.min(result.lastCheckpointSeq, length) || null;
      return {
        orgId,
        valid,
        length,
        head,
        firstInvalidSeq,
        reason,
        message,
        checkpoints: { total, verified: result.checkpoints.verified, signaturesVerified: result.checkpoints.signaturesVerified, lastSeq },
        unsignedFromSeq: length > (lastSeq ?? 0) ? (lastSeq ?? 0) + 1 : null,
        coverage: await coverage(orgId),
      };
    },

    /**
     * The organization's export (docs/audit-log-format.md section 8): its entries in seq order, then its
     * checkpoints, one JCS line each, a storage page per chunk. The scope is checked before the first
     * chunk, so a refusal is an ordinary error response. Like `verify`, a snapshot up to the head read
     * first: a checkpoint an append signs while the export runs is left out (it would name entries the
     * export does not hold), one beyond the head read afterwards is kept (it shows a removed tail).
     */
    async export(principal: Principal, query: OrgScopeQuery): Promise<AsyncIterable<string>> {
      const orgId = await scope(principal, query.orgId);
      return (async function* lines() {
        const head = await store.head(orgId);
        const toSeq = head?.seq;
        for await (const page of store.entryPages(orgId, toSeq === undefined ? undefined : { toSeq })) if (page.length) yield page.map(line).join("");
        const later: { seq: number; checkpoint: unknown }[] = [];
        for await (const page of store.checkpointPages(orgId)) {
          const inside: unknown[] = [];
          for (const checkpoint of page) {
            const seq = seqOf(checkpoint);
            if (toSeq !== undefined && seq !== null && seq > toSeq) later.push({ seq, checkpoint });
            else inside.push(checkpoint);
          }
          if (inside.length) yield inside.map(line).join("");
        }
        if (later.length) {
          const currentSeq = (await store.head(orgId))?.seq ?? 0;
          const beyond = later.filter((l) => l.seq > currentSeq).map((l) => l.checkpoint);
          if (beyond.length) yield beyond.map(line).join("");
        }
      })();
    },

    /** The current checkpoint key and every earlier one (checkpoints name theirs by keyId). */
    async publicKey(): Promise<AuditPublicKey> {
      const all = await knownKeys();
      const current = local ?? all.at(-1);
      if (!current) throw notFound("Audit signing key");
      return {
        algorithm: "Ed25519",
        keyId: current.keyId,
        publicKey: current.publicKey,
        keys: all.map((k) => ({ keyId: k.keyId, publicKey: k.publicKey, registeredAt: k.registeredAt || null })),
      };
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;

/** A stored checkpoint's seq, if it has a readable one (a malformed checkpoint is left to the verifier). */
function seqOf(record: unknown): number | null {
  return isRecord(record) && isPositiveSeq(record.seq) ? record.seq : null;
}

/** One export line: the record's canonical JSON (what storage holds, tampered or not). */
function line(record: unknown): string {
  return `${canonicalJson(record)}\n`;
}
