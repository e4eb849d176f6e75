import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from "@aws-sdk/lib-dynamodb";
import { unavailable } from "../errors";
import { fullJitterMs, pause } from "../shared/retry";

/** One item of a TransactWriteItems request (Put, Update, Delete or ConditionCheck), as the document client takes it. */
export type TransactItem = NonNullable<TransactWriteCommandInput["TransactItems"]>[number];

/**
 * The named parts of a transaction, in order. A name says what the part stands for (`ticketQuota`,
 * `manager`); several items may share one (`history`, `roleHolders`). Order parts by precedence: when
 * several conditions fail, the first failed part is the one reported.
 */
export type TransactParts<N extends string> = readonly (readonly [N, TransactItem])[];

/** A transaction's outcome: written, or cancelled by the conditions of the named parts. */
export type TransactResult<N extends string> = { ok: true } | { ok: false; failed: N; conditions: readonly N[] };

/**
 * The policy on `TransactionConflict`, in one place. DynamoDB cancels a transaction that touches an
 * item another transaction is writing at that moment, instead of queueing it (concurrent ticket
 * creations and chat settlements all update the month's usage item). No condition was evaluated
 * false, so the same transaction is sent again after a full-jitter backoff (up to 10·2^n ms, at most
 * 1 s each: 8 attempts wait about 1.3 s in the worst case). A transaction that loses every attempt is
 * answered 503 `transaction_conflict` with Retry-After: the request was sound, the item was busy.
 */
export const TRANSACTION_CONFLICT_POLICY = { attempts: 8, maxDelayMs: 1_000, retryAfterSeconds: 1 } as const;

export interface TransactOptions {
  /** Attempts on TransactionConflict (default TRANSACTION_CONFLICT_POLICY.attempts). */
  attempts?: number;
  /** Waits between attempts; injectable so tests need not sleep. */
  sleep?: (ms: number) => Promise<void>;
}

/** DynamoDB's limit on items in one TransactWriteItems. */
export const MAX_TRANSACT_ITEMS = 100;

/**
 * Writes the parts in one TransactWriteItems. A failed condition comes back by name
 * (`{ ok: false, failed: "ticketQuota" }`), never as an index into the cancellation reasons;
 * TransactionConflict is retried as TRANSACTION_CONFLICT_POLICY says; any other error is thrown as is.
 */
export async function transactWrite<N extends string>(
  client: DynamoDBDocumentClient,
  parts: TransactParts<N>,
  { attempts = TRANSACTION_CONFLICT_POLICY.attempts, sleep = pause }: TransactOptions = {},
): Promise<TransactResult<N>> {
  if (parts.length === 0) return { ok: true };
  if (parts.length > MAX_TRANSACT_ITEMS) throw new RangeError(`A transaction holds at most ${MAX_TRANSACT_ITEMS} items, not ${parts.length}.`);
  const items = parts.map(([, item]) => item);
  for (let n = 1; ; n++) {
    try {
      // A new command per attempt: each gets its own idempotency token, as a new request should.
      await client.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes === undefined && !isConflictException(error)) throw error;
      const conditions = [...new Set((codes ?? []).flatMap((code, i) => (code === "ConditionalCheckFailed" ? [parts[i]![0]] : [])))];
      if (conditions.length) return { ok: false, failed: conditions[0]!, conditions };
      // Cancelled for a reason other than a condition or a conflict (validation, throttling, size): not ours to retry.
      if (codes && !codes.every((code) => code === undefined || code === "None" || code === "TransactionConflict")) throw error;
      if (n >= attempts) {
        throw unavailable(
          `The change collided with concurrent changes of the same items ${n} times; try again.`,
          TRANSACTION_CONFLICT_POLICY.retryAfterSeconds,
          "transaction_conflict",
        );
      }
      await sleep(fullJitterMs(n, TRANSACTION_CONFLICT_POLICY.maxDelayMs));
    }
  }
}

/** The cancellation reason codes of a cancelled transaction, in the order of its items; undefined for other errors. */
function cancellationCodes(error: unknown): (string | undefined)[] | undefined {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return undefined;
  return ((error as Error & { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).map((r) => r.Code);
}

/** A transaction that ran into another one in progress, reported as an exception of its own. */
const isConflictException = (error: unknown) => error instanceof Error && error.name === "TransactionConflictException";
