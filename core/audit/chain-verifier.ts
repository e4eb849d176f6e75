import { verify, type KeyObject } from "node:crypto";
import { checkEntry, checkpointSigningBytes, describeMalformedCheckpoint, isPositiveSeq, isRecord, type VerifyFailureReason, type VerifyResult } from "./chain";
import type { AuditEntry, Checkpoint } from "./entry";

/**
 * `verifyChain` (chain.ts) for a chain read a page at a time: the same rules, the same order of checks
 * and the same result, but entries are handed over one by one and forgotten, so verifying a long
 * chain from storage holds 32 bytes per entry (its hash) instead of every entry. Tested for equal
 * verdicts against `verifyChain` (test/unit/audit/chain-verifier.test.ts).
 */

interface Failure {
  seq: number;
  reason: VerifyFailureReason;
  message: string;
}

export interface ChainVerifierOptions {
  /** The organization the chain must belong to. */
  orgId: string;
  /**
   * Public keys by keyId. Null: signatures are not checked (as `verifyChain` without a key). A
   * checkpoint whose keyId is not in the map fails as `checkpoint_key_mismatch`.
   */
  publicKeys: ReadonlyMap<string, KeyObject> | null;
}

export interface ChainVerifier {
  /** Entries in chain order. Returns false once the chain failed: later entries cannot change the verdict. */
  addEntry(entry: unknown): boolean;
  /** Checkpoints, after the last entry. */
  addCheckpoint(checkpoint: unknown): void;
  /** The hash of a verified entry. */
  hashAt(seq: number): string | undefined;
  /** The verdict so far, plus the highest seq vouched for by a verified checkpoint (0: none). */
  result(): VerifyResult & { lastCheckpointSeq: number };
}


export function createChainVerifier({ orgId, publicKeys }: ChainVerifierOptions): ChainVerifier {
  let hashes = Buffer.alloc(32 * 1024); // hash of seq n at [32(n-1), 32n)
  let length = 0;
  let entryFailure: Failure | null = null;
  let first: Failure | null = null;
  let checkpointsStarted = false;
  let verified = 0;
  let signaturesVerified = 0;
  let lastCheckpointSeq = 0;

  const hashAt = (seq: number): string | undefined =>
    seq >= 1 && seq <= length ? hashes.subarray(32 * (seq - 1), 32 * seq).toString("hex") : undefined;
  const fail = (failure: Failure) => {
    // The earliest failure says from where the log is untrusted; on a tie the first reported (the entry's) wins.
    if (first === null || failure.seq < first.seq) first = failure;
  };
  function push(hash: string) {
    if (32 * (length + 1) > hashes.length) {
      const grown = Buffer.alloc(hashes.length * 2);
      hashes.copy(grown);
      hashes = grown;
    }
    hashes.write(hash, 32 * length, "hex");
    length += 1;
  }

  function checkCheckpoint(checkpoint: unknown): Failure | "skip" | null {
    const malformed = describeMalformedCheckpoint(checkpoint);
    if (malformed) {
      const seq = isRecord(checkpoint) && isPositiveSeq(checkpoint.seq) ? checkpoint.seq : length + 1;
      return { seq, reason: "malformed_checkpoint", message: `Checkpoint: ${malformed}.` };
    }
    const c = checkpoint as Checkpoint;
    if (c.orgId !== orgId) {
      return { seq: c.seq, reason: "checkpoint_org_mismatch", message: `Checkpoint at seq ${c.seq} belongs to '${c.orgId}'.` };
    }
    if (c.seq > length) {
      if (entryFailure) return "skip";
      return {
        seq: length + 1,
        reason: "checkpoint_beyond_head",
        message: `Checkpoint at seq ${c.seq} but the chain ends at seq ${length}: entries are missing at the end.`,
      };
    }
    if (hashAt(c.seq) !== c.hash) {
      return { seq: c.seq, reason: "checkpoint_hash_mismatch", message: `Checkpoint at seq ${c.seq} names another hash than the chain's.` };
    }
    if (!publicKeys) return null;
    const key = publicKeys.get(c.keyId);
    if (!key) {
      return {
        seq: c.seq,
        reason: "checkpoint_key_mismatch",
        message: `Checkpoint at seq ${c.seq} was signed by key ${c.keyId}, not ${[...publicKeys.keys()].join(" or ") || "a known key"}.`,
      };
    }
    const { signature, ...body } = c;
    if (!verify(null, checkpointSigningBytes(body), key, Buffer.from(signature, "base64"))) {
      return { seq: c.seq, reason: "checkpoint_signature_invalid", message: `Checkpoint at seq ${c.seq} has an invalid signature.` };
    }
    return null;
  }

  return {
    addEntry(entry) {
      if (checkpointsStarted) throw new Error("Entries must all be added before the first checkpoint.");
      if (entryFailure) return false;
      entryFailure = checkEntry(entry, length + 1, hashAt, orgId);
      if (entryFailure) {
        fail(entryFailure);
        return false;
      }
      push((entry as AuditEntry).hash);
      return true;
    },

    addCheckpoint(checkpoint) {
      checkpointsStarted = true;
      const failure = checkCheckpoint(checkpoint);
      if (failure === "skip") return;
      if (failure) return fail(failure);
      verified += 1;
      if (publicKeys) signaturesVerified += 1;
      lastCheckpointSeq = Math.max(lastCheckpointSeq, (checkpoint as Checkpoint).seq);
    },

    hashAt,

    result() {
      const failure = first as Failure | null;
      // Only entries before the first invalid seq are vouched for, even if later links happened to verify.
      const trusted = failure ? Math.min(length, failure.seq - 1) : length;
      return {
        valid: failure === null,
        length: trusted,
        head: trusted ? { seq: trusted, hash: hashAt(trusted)! } : null,
        firstInvalidSeq: failure?.seq ?? null,
        reason: failure?.reason ?? null,
        message: failure?.message ?? null,
        checkpoints: { verified, signaturesVerified },
        lastCheckpointSeq: Math.min(lastCheckpointSeq, trusted),
      };
    },
  };
}

// The member rules of docs/audit-log-format.md sections 2 and 7, as chain.ts applies them.
