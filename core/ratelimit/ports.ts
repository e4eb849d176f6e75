/**
 * Persistence of rate-limit buckets (adapter: core/db/rate-limit.repository.ts). A bucket holds one
 * number, its TAT (./gcra.ts), and is changed only by these conditional writes, so concurrent
 * requests in any number of processes can never let more through than the policy allows: each write
 * is checked against the value it replaces. Neither needs a read first: a refused write reports the
 * stored TAT (DynamoDB's ReturnValuesOnConditionCheckFailure), which is all the caller needs to decide.
 */

/** A bucket of one tenant: `org`, `key#<keyId>`, `chat-rpm`, `chat-tpm`. */
export interface BucketRef {
  orgId: string;
  bucket: string;
}

export type WriteResult =
  /** Written: the bucket's TAT is now `tat`. */
  | { ok: true; tat: number }
  /** Not written: the condition did not hold for the stored `tat` (undefined: no bucket yet). */
  | { ok: false; tat: number | undefined };

export interface RateLimitStore {
  /**
   * An idle bucket (no TAT, or a TAT at or before `now`) starts over: TAT := `next`. Refused when the
   * bucket is busy (its TAT is after `now`).
   */
  restart(ref: BucketRef, write: { now: number; next: number; expiresAt: number }): Promise<WriteResult>;
  /**
   * A busy bucket takes `increment` more: TAT := TAT + `increment`, only if `now` < TAT <= `atMost`.
   * Refused when the bucket is idle (TAT at or before `now`, or none) or has no room (TAT > `atMost`).
   */
  advance(ref: BucketRef, write: { now: number; increment: number; atMost: number; expiresAt: number }): Promise<WriteResult>;
  /**
   * Compare-and-set: TAT := `to`, only if the stored TAT is exactly `from`. Used once after a limit
   * changed, to cut a bucket that holds more than the new policy's whole bucket down to an empty one.
   */
  rebase(ref: BucketRef, write: { from: number; to: number; expiresAt: number }): Promise<WriteResult>;
}
