import { appendFileSync, closeSync, existsSync, fstatSync, fsyncSync, openSync, readFileSync, readSync, renameSync, writeSync } from "node:fs";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { StreamConsumerSpec } from "../functions/manifest.types";
import { matchesAny } from "../functions/lib/event-filter";
import { toLambdaRecord } from "../core/db/stream-records";
import { loadHandler } from "./handlers";
import { runAs } from "./permission-guard";

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

/** How a failing batch is retried before its records are parked (the deployed mapping's STREAM_RETRY: 10 retries, bisect). */
export interface RetryPolicy {
  /** Retries of a failing batch before its records go to the failure file (the mapping's retryAttempts). */
  maxRetries: number;
  /** Wait before the first retry; doubles with each one, up to `maxDelayMs` (with jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
}

/** About 30 s of retries: a restarting DynamoDB Local is back well within them, so nothing is parked. */
export const DEFAULT_RETRY: RetryPolicy = { maxRetries: 10, baseDelayMs: 200, maxDelayMs: 5_000 };

/** How parked records are replayed. */
export interface RedrivePolicy {
  /** How often the failure file is looked at. */
  intervalMs: number;
  /** A parked record that failed again waits `baseDelayMs` x 2^attempts, at most `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Records replayed per pass (bounded work; the rest wait for the next pass). */
  maxPerPass: number;
}

export const DEFAULT_REDRIVE: RedrivePolicy = { intervalMs: 1_000, baseDelayMs: 1_000, maxDelayMs: 60_000, maxPerPass: 100 };

export interface StreamPollerOptions {
  endpoint: string;
  region: string;
  streamArn: string;
  consumers: StreamConsumerSpec[];
  /** Resume points per consumer and shard survive a restart here (unset: start from the oldest record). */
  checkpointFile?: string;
  /**
   * Records that still failed after every retry go here, like an on-failure destination, and are
   * replayed from it. Unset (in-memory runs): they are kept in memory, replayed the same way, and
   * gone when the process ends, like everything else of such a run.
   */
  failureFile?: string;
  /** Retries of a failing batch before it is parked (default 10, like the deployed mapping). */
  maxRetries?: number;
  retry?: Partial<RetryPolicy>;
  redrive?: Partial<RedrivePolicy>;
  pollIntervalMs?: number;
  /** For tests: load consumer handlers from functions instead of handler strings. */
  resolveHandler?: (spec: StreamConsumerSpec) => StreamHandler | undefined;
  log?: (line: Record<string, unknown>) => void;
}

interface ShardState {
  shard: Shard;
  iterator?: string;
  done: boolean;
}

/** One line of the failure file. Lines written before attempts were counted have only the first two members. */
export interface ParkedRecord {
  consumer: string;
  record: DynamoDBRecord;
  parkedAt?: string;
  /** Replays that failed so far. */
  attempts?: number;
  /** Epoch ms before which it is not replayed again. */
  nextAttemptAt?: number;
  lastError?: string;
}

export interface StreamPollerStatus {
  running: boolean;
  /** When a poll of the stream last succeeded (null: not yet). */
  lastSuccessfulPollAt: string | null;
  /** Polls that failed in a row (0 while the stream answers). */
  consecutiveFailures: number;
  lastError: string | null;
  /** Records in the failure file, waiting to be replayed. */
  parkedRecords: number;
}

export interface RedriveResult {
  /** Replayed successfully and removed from the failure file. */
  replayed: number;
  /** Replayed and failed again: kept, with a later retry time. */
  failed: number;
  /** Still parked after the pass (including those not due yet). */
  remaining: number;
}

const lineKey = (line: { consumer: string; record: DynamoDBRecord }) => `${line.consumer}\u0000${line.record.eventID}`;

/**
 * The local stand-in for Lambda's DynamoDB event source mapping: reads the table's stream with the
 * real Streams API, hands each consumer Lambda-shaped batches in shard order, applies the consumer's
 * filter patterns (records that do not match are dropped, as Lambda does), and honours partial batch
 * responses: processing resumes at the first failed record, a thrown error bisects the batch.
 *
 * Faults: a failing batch is retried with exponential backoff (10 retries, like the deployed
 * mapping) and only then parked in the failure file; a failing poll (DynamoDB Local restarting)
 * backs off and re-derives every shard iterator from the checkpoints; and a redrive loop replays
 * parked records with backoff once they can be delivered, removing each from the file only after
 * it succeeded (an atomic rewrite: a crash mid-replay leaves it parked, and the replay is idempotent).
 */
export function createStreamPoller(options: StreamPollerOptions) {
  const client = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 5_000, throwOnRequestTimeout: true },
  });
  const log = options.log ?? ((line) => console.log(JSON.stringify({ level: "INFO", service: "stream-poller", ...line })));
  const retry: RetryPolicy = { ...DEFAULT_RETRY, ...(options.maxRetries !== undefined ? { maxRetries: options.maxRetries } : {}), ...options.retry };
  const redrivePolicy: RedrivePolicy = { ...DEFAULT_REDRIVE, ...options.redrive };
  const interval = options.pollIntervalMs ?? 250;
  let streamArn = options.streamArn;
  let checkpoints: Record<string, string> = readCheckpoints(options.checkpointFile, log);
  const consumers = options.consumers.map((spec) => ({
    spec,
    shards: new Map<string, ShardState>(),
  }));
  let running = false;
  let loop: Promise<void> | undefined;
  let redriveLoop: Promise<void> | undefined;
  let waiters: { after: number; resolve: () => void }[] = [];
  let polls = 0;
  let lastSuccessfulPollAt: string | null = null;
  let consecutiveFailures = 0;
  let lastError: string | null = null;
  const parking: ParkingLot = options.failureFile ? fileParkingLot(options.failureFile) : memoryParkingLot();
  let parked = countParked(parking);
  /** Set when the stream answers again after failing: parked records are worth trying at once. */
  let redriveSoon = false;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const checkpointKey = (consumer: string, shardId: string) => `${consumer}/${shardId}`;
  function saveCheckpoint(consumer: string, shardId: string, sequenceNumber: string) {
    checkpoints[checkpointKey(consumer, shardId)] = sequenceNumber;
    if (options.checkpointFile) writeAtomically(options.checkpointFile, JSON.stringify(checkpoints));
  }

  async function handlerOf(spec: StreamConsumerSpec): Promise<StreamHandler> {
    return options.resolveHandler?.(spec) ?? (await loadHandler<StreamHandler>(spec.handler));
  }

  async function listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }));
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  async function iteratorFor(consumer: string, shard: Shard): Promise<string | undefined> {
    const after = checkpoints[checkpointKey(consumer, shard.ShardId!)];
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.ShardId!,
        ShardIteratorType: after ? "AFTER_SEQUENCE_NUMBER" : "TRIM_HORIZON",
        ...(after ? { SequenceNumber: after } : {}),
      }),
    );
    return ShardIterator;
  }

  function park(spec: StreamConsumerSpec, records: DynamoDBRecord[], error: string) {
    log({ level: "WARN", message: "records sent to the failure destination", consumer: spec.name, records: records.length, error });
    const parkedAt = new Date().toISOString();
    parking.append(records.map((record) => JSON.stringify({ consumer: spec.name, record, parkedAt, attempts: 0, nextAttemptAt: 0, lastError: error } satisfies ParkedRecord)));
    parked += records.length;
  }

  /**
   * Delivers one batch with Lambda's retry semantics: a partial batch response retries from the
   * first failed record, a thrown error splits the batch in two, and each retry waits longer.
   * Returns when every record is handled or parked.
   */
  async function deliver(spec: StreamConsumerSpec, handler: StreamHandler, records: DynamoDBRecord[], attempt = 0): Promise<void> {
    let pending = records;
    while (pending.length) {
      let failedFrom: number;
      let error: string;
      try {
        const response = await runAs({ function: spec.handler, permissions: spec.permissions }, () => handler({ Records: pending }));
        const failures = response?.batchItemFailures ?? [];
        if (failures.length === 0) return;
        const ids = new Set(failures.map((f) => f.itemIdentifier));
        failedFrom = pending.findIndex((r) => ids.has(r.dynamodb!.SequenceNumber!));
        if (failedFrom < 0) failedFrom = 0; // an identifier we did not send: Lambda retries the whole batch
        error = "partial batch failure";
      } catch (thrown) {
        error = String(thrown);
        log({ level: "WARN", message: "consumer failed", consumer: spec.name, error, records: pending.length, attempt });
        if (pending.length > 1) {
          // BisectBatchOnFunctionError: each half on its own, so one poison record does not block the
          // rest. As in Lambda, a split does not count as a retry (a consumer that fails for a reason
          // of its own, like the audit consumer, reports partial failures instead of throwing).
          const half = Math.ceil(pending.length / 2);
          await deliver(spec, handler, pending.slice(0, half), attempt);
          await deliver(spec, handler, pending.slice(half), attempt);
          return;
        }
        failedFrom = 0;
      }
      pending = pending.slice(failedFrom);
      if (attempt >= retry.maxRetries) {
        park(spec, pending, error);
        return;
      }
      await backoff(attempt);
      attempt += 1;
    }
  }

  function backoff(attempt: number): Promise<void> {
    const ceiling = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** attempt);
    return new Promise((r) => setTimeout(r, ceiling / 2 + (Math.random() * ceiling) / 2));
  }

  /** Forget every iterator: the next poll derives them again from the checkpoints. */
  function resetIterators() {
    for (const consumer of consumers) for (const state of consumer.shards.values()) state.iterator = undefined;
  }

  async function pollOnce(): Promise<boolean> {
    let sawRecords = false;
    const shards = await listShards();
    for (const consumer of consumers) {
      for (const shard of shards) {
        if (!consumer.shards.has(shard.ShardId!)) consumer.shards.set(shard.ShardId!, { shard, done: false });
      }
      const handler = await handlerOf(consumer.spec);
      for (const state of consumer.shards.values()) {
        if (state.done) continue;
        // Shard order: a child shard's records wait until its parent is read to the end.
        const parent = state.shard.ParentShardId && consumer.shards.get(state.shard.ParentShardId);
        if (parent && !parent.done) continue;
        state.iterator ??= await iteratorFor(consumer.spec.name, state.shard);
        if (!state.iterator) {
          state.done = true;
          continue;
        }
        // Any failure here (an expired iterator, DynamoDB Local gone or restarted) fails the poll; the
        // loop backs off and re-derives the iterators from the checkpoints, so nothing is skipped.
        const result = await client.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: consumer.spec.batchSize }));
        const records = (result.Records ?? []).map((r) => toLambdaRecord(r, { region: options.region, streamArn }));
        if (records.length) {
          sawRecords = true;
          const selected = records.filter((r) => matchesAny(consumer.spec.filterPatterns, r));
          if (selected.length) await deliver(consumer.spec, handler, selected);
          saveCheckpoint(consumer.spec.name, state.shard.ShardId!, records.at(-1)!.dynamodb!.SequenceNumber!);
        }
        if (result.NextShardIterator) state.iterator = result.NextShardIterator;
        else state.done = true;
      }
    }
    return sawRecords;
  }

  /**
   * Replays due parked records, oldest first, at most `maxPerPass`, in batches per consumer; then
   * rewrites the file in one synchronous step (read again, drop the replayed, reschedule the failed,
   * write a temporary file, rename), so records parked meanwhile are kept and a crash at any point
   * leaves either the old file or the new one.
   */
  async function redrivePass(options_: { ignoreBackoff?: boolean } = {}): Promise<RedriveResult> {
    const now = Date.now();
    const { lines, unreadable } = readParked(parking);
    const due = lines.filter((l) => options_.ignoreBackoff || (l.nextAttemptAt ?? 0) <= now).slice(0, redrivePolicy.maxPerPass);
    if (due.length === 0) {
      parked = lines.length + unreadable.length;
      return { replayed: 0, failed: 0, remaining: parked };
    }
    const done = new Set<string>();
    const failed = new Map<string, string>();
    for (const consumer of consumers) {
      const mine = due.filter((l) => l.consumer === consumer.spec.name);
      if (!mine.length) continue;
      const handler = await handlerOf(consumer.spec);
      for (let i = 0; i < mine.length; i += consumer.spec.batchSize) {
        const batch = mine.slice(i, i + consumer.spec.batchSize);
        let failedFrom = batch.length;
        let error = "partial batch failure";
        try {
          const response = await runAs({ function: consumer.spec.handler, permissions: consumer.spec.permissions }, () => handler({ Records: batch.map((l) => l.record) }));
          const ids = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
          if (ids.size) {
            const at = batch.findIndex((l) => ids.has(l.record.dynamodb!.SequenceNumber!));
            failedFrom = at < 0 ? 0 : at;
          }
        } catch (thrown) {
          failedFrom = 0;
          error = String(thrown);
        }
        batch.slice(0, failedFrom).forEach((l) => done.add(lineKey(l)));
        batch.slice(failedFrom).forEach((l) => failed.set(lineKey(l), error));
      }
    }
    for (const l of due) if (!consumers.some((c) => c.spec.name === l.consumer)) failed.set(lineKey(l), `no consumer named ${l.consumer}`);

    // Everything below is synchronous: no park() can interleave between reading and renaming.
    const current = readParked(parking);
    const kept: string[] = [];
    const later = Date.now();
    for (const [index, line] of current.lines.entries()) {
      const key = lineKey(line);
      if (done.has(key)) continue;
      const error = failed.get(key);
      if (error !== undefined) {
        const attempts = (line.attempts ?? 0) + 1;
        const delay = Math.min(redrivePolicy.maxDelayMs, redrivePolicy.baseDelayMs * 2 ** (attempts - 1));
        kept.push(JSON.stringify({ ...line, attempts, nextAttemptAt: later + delay, lastError: error.slice(0, 500) }));
      } else kept.push(current.raw[index]!);
    }
    kept.push(...current.unreadable); // never drop a line, even one this code cannot read
    parking.replace(kept);
    parked = kept.length;
    const result = { replayed: done.size, failed: failed.size, remaining: kept.length };
    log({ level: result.failed ? "WARN" : "INFO", message: "replayed parked stream records", ...result });
    return result;
  }

  return {
    start() {
      if (running || consumers.length === 0) return;
      running = true;
      loop = (async () => {
        while (running) {
          const seq = ++polls;
          let more = false;
          try {
            more = await pollOnce();
            if (consecutiveFailures > 0) {
              log({ message: "the stream answers again", after: consecutiveFailures });
              redriveSoon = true;
            }
            consecutiveFailures = 0;
            lastSuccessfulPollAt = new Date().toISOString();
          } catch (error) {
            consecutiveFailures += 1;
            lastError = String(error);
            // Every 10th failure only: a restart takes a few seconds of failed polls.
            if (consecutiveFailures % 10 === 1) log({ level: "WARN", message: "poll failed; backing off", error: lastError, failures: consecutiveFailures });
            resetIterators();
            await new Promise((r) => setTimeout(r, Math.min(5_000, interval * 2 ** Math.min(consecutiveFailures, 5))));
            continue;
          }
          if (!more) {
            waiters = waiters.filter((w) => (w.after < seq ? (w.resolve(), false) : true));
            await new Promise((r) => setTimeout(r, interval));
          }
        }
      })();
      redriveLoop = (async () => {
        while (running) {
          await sleep(redrivePolicy.intervalMs);
          if (!running) break;
          if (parked === 0 && !redriveSoon) continue;
          const ignoreBackoff = redriveSoon;
          redriveSoon = false;
          try {
            await redrivePass({ ignoreBackoff });
          } catch (error) {
            log({ level: "WARN", message: "redrive pass failed", error: String(error) });
          }
        }
      })();
    },
    /**
     * Resolves after a poll that started after this call found nothing new: what was written (and
     * visible in the stream) before the call has been delivered (or parked).
     */
    drained(): Promise<void> {
      return new Promise((resolve) => waiters.push({ after: polls, resolve }));
    },
    /** One redrive pass now (tests; the loop runs them by itself). */
    redrivePass,
    /** Follow another stream (an in-memory table re-created after a restart): its shards start from their oldest record. */
    setStream(arn: string) {
      if (arn === streamArn) return;
      log({ message: "following a new stream", streamArn: arn });
      streamArn = arn;
      checkpoints = {};
      if (options.checkpointFile) writeAtomically(options.checkpointFile, "{}");
      for (const consumer of consumers) consumer.shards.clear();
    },
    status(): StreamPollerStatus {
      return { running, lastSuccessfulPollAt, consecutiveFailures, lastError: consecutiveFailures ? lastError : null, parkedRecords: parked };
    },
    async stop() {
      running = false;
      wake?.();
      await loop;
      await redriveLoop;
      client.destroy();
    },
  };
}

/** Checkpoints from the file; a file a crash left unreadable is set aside (records are then delivered again, which is safe). */
function readCheckpoints(file: string | undefined, log: (line: Record<string, unknown>) => void): Record<string, string> {
  if (!file || !existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  } catch (error) {
    log({ level: "WARN", message: "stream checkpoints unreadable; starting from the oldest records", error: String(error) });
    renameSync(file, `${file}.unreadable-${Date.now()}`);
    return {};
  }
}

/**
 * Where parked records wait: one JSON line each. Every operation is synchronous, so a park can never
 * interleave with a redrive's read-modify-replace.
 */
interface ParkingLot {
  read(): string[];
  append(lines: string[]): void;
  /** Replaces every line at once (a crash leaves the old lines or the new ones). */
  replace(lines: string[]): void;
}

/** The failure file. */
function fileParkingLot(file: string): ParkingLot {
  return {
    read: () => (existsSync(file) ? readFileSync(file, "utf8").split("\n") : []),
    append(lines) {
      // A line a crash cut short must not swallow the next one: start on a fresh line.
      appendFileSync(file, (endsMidLine(file) ? "\n" : "") + lines.map((l) => `${l}\n`).join(""));
    },
    replace: (lines) => writeAtomically(file, lines.length ? lines.join("\n") + "\n" : ""),
  };
}

/** In-memory runs: the same lines, in memory. */
function memoryParkingLot(): ParkingLot {
  let kept: string[] = [];
  return {
    read: () => [...kept],
    append: (lines) => void kept.push(...lines),
    replace: (lines) => void (kept = [...lines]),
  };
}

/** Parked lines (unreadable ones too: they wait for a person). */
function countParked(parking: ParkingLot): number {
  const { lines, unreadable } = readParked(parking);
  return lines.length + unreadable.length;
}

/** The parked lines: parsed, their raw text, and lines that are not a parked record (kept as they are). */
function readParked(parking: ParkingLot): { lines: ParkedRecord[]; raw: string[]; unreadable: string[] } {
  const lines: ParkedRecord[] = [];
  const raw: string[] = [];
  const unreadable: string[] = [];
  for (const text of parking.read()) {
    if (!text.trim()) continue;
    try {
      const line = JSON.parse(text) as ParkedRecord;
      if (typeof line?.consumer === "string" && typeof line.record?.eventID === "string") {
        lines.push(line);
        raw.push(text);
        continue;
      }
    } catch {
      // a line cut short by a crash while it was appended: keep it for a person to look at
    }
    unreadable.push(text);
  }
  return { lines, raw, unreadable };
}

function endsMidLine(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, "r");
  try {
    const { size } = fstatSync(fd);
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** Write a file so that a crash leaves either the old content or the new one, never half of it. */
function writeAtomically(file: string, content: string) {
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, "w");
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
