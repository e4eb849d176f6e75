import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { LostStreamRange, StreamLossLog } from "../../core/audit/ports";
import type { ShardRangeReader } from "../../core/db/stream-records";
import type { StreamConsumerSpec } from "../manifest.types";
import { matchesAny } from "./event-filter";

/**
 * The redrive of a stream consumer's failure queue (AWS). When the event source mapping gives up on a
 * batch (10 retries, or 6 h of record age: stacks/stream.ts STREAM_RETRY), it sends the batch's
 * coordinates, not its records, to the consumer's on-failure SQS queue. On a schedule, this reads
 * each message, fetches the records it names from the stream (the same shard and sequence range, the
 * same filter patterns as the mapping), hands them to the consumer, and deletes the message once the
 * consumer took them all. A message that fails again becomes visible later (backoff by receive
 * count); a range the stream no longer holds (24 h retention) is recorded as lost, then deleted.
 */

/** One on-failure record of a DynamoDB stream event source mapping (its `DDBStreamBatchInfo`). */
export interface StreamBatchInfo {
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
  approximateArrivalOfFirstRecord?: string;
  approximateArrivalOfLastRecord?: string;
  batchSize?: number;
  streamArn: string;
}

export interface QueueMessage {
  id: string;
  body: string;
  receiptHandle: string;
  /** How often it was received (SQS ApproximateReceiveCount), 1 the first time. */
  receiveCount: number;
  /** When it was sent (SQS SentTimestamp, epoch ms). */
  sentAt: number;
}

/** The failure queue as the redrive uses it (SQS in AWS; tests stand in for it: there is no local SQS). */
export interface FailureQueue {
  /** Up to `max` messages, hidden from other receivers for `visibilitySeconds`. */
  receive(max: number, visibilitySeconds: number): Promise<QueueMessage[]>;
  delete(message: QueueMessage): Promise<void>;
  /** Makes a message visible again after `delaySeconds` (a retry later). */
  retryLater(message: QueueMessage, delaySeconds: number): Promise<void>;
}

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export interface StreamRedriveOptions {
  consumer: StreamConsumerSpec;
  handler: StreamHandler;
  queue: FailureQueue;
  /** Reads a shard range from the table's stream (core/db/stream-records.ts). */
  readRange: ShardRangeReader;
  losses: StreamLossLog;
  /** Stop taking messages when less than this is left of the invocation (one message's worth, with room). */
  safetyMarginMs?: number;
  /** A message kept this long was not replayed within the queue's retention (14 days): record it lost before SQS drops it. */
  giveUpAfterMs?: number;
  now?: () => number;
  log?: (level: "info" | "warn" | "error", message: string, details: Record<string, unknown>) => void;
}

export interface RedriveSummary {
  /** Messages whose records the consumer took: deleted. */
  replayed: number;
  /** Records handed to the consumer. */
  records: number;
  /** Messages whose range the stream no longer holds: recorded as lost, deleted. */
  lost: number;
  /** Messages that failed again (or could not be read): left for a later run. */
  failed: number;
  /** Whether the run stopped because the invocation's time was running out. */
  stoppedForTime: boolean;
}

/** Errors that say the stream no longer holds the range. */
const GONE = new Set(["TrimmedDataAccessException", "ResourceNotFoundException"]);
const DAY_MS = 24 * 60 * 60 * 1000;

/** Messages are hidden this long while a run works on them; more than a run can take. */
export const REDRIVE_VISIBILITY_SECONDS = 15 * 60;

export function createStreamRedrive(options: StreamRedriveOptions) {
  const { consumer, handler, queue, readRange, losses } = options;
  const margin = options.safetyMarginMs ?? 30_000;
  const giveUpAfter = options.giveUpAfterMs ?? 13 * DAY_MS;
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => undefined);

  /** Hands the records to the consumer a batch at a time; true when it took every one. */
  async function deliver(records: DynamoDBRecord[]): Promise<{ ok: boolean; error?: string }> {
    for (let i = 0; i < records.length; i += consumer.batchSize) {
      const batch = records.slice(i, i + consumer.batchSize);
      try {
        const response = await handler({ Records: batch });
        if (response?.batchItemFailures?.length) return { ok: false, error: `${response.batchItemFailures.length} record(s) reported failed` };
      } catch (error) {
        return { ok: false, error: error instanceof Error ? error.message : String(error) };
      }
    }
    return { ok: true };
  }

  async function recordLost(info: StreamBatchInfo, reason: string) {
    const range: LostStreamRange = {
      consumer: consumer.name,
      shardId: info.shardId,
      fromSequenceNumber: info.startSequenceNumber,
      toSequenceNumber: info.endSequenceNumber,
      firstRecordAt: info.approximateArrivalOfFirstRecord ?? null,
      lastRecordAt: info.approximateArrivalOfLastRecord ?? null,
      recordedAt: new Date(now()).toISOString(),
      reason,
    };
    await losses.record(range);
    log("error", "stream records lost: the failure queue named a range the stream no longer holds", { ...range });
  }

  /** What became of one message, and how many records the consumer took from it. */
  async function handle(message: QueueMessage): Promise<{ outcome: "replayed" | "lost" | "failed"; records: number }> {
    const info = batchInfoOf(message.body);
    if (!info) {
      // Not an on-failure record: keep it for a person (it raises the queue alarms), do not guess.
      log("error", "failure queue message is not a stream batch record", { messageId: message.id });
      await queue.retryLater(message, REDRIVE_VISIBILITY_SECONDS);
      return { outcome: "failed", records: 0 };
    }
    if (now() - message.sentAt > giveUpAfter) {
      await recordLost(info, `not replayed within ${Math.round(giveUpAfter / DAY_MS)} days (the queue's retention is 14)`);
      await queue.delete(message);
      return { outcome: "lost", records: 0 };
    }
    let records: DynamoDBRecord[];
    try {
      records = await readRange(info);
    } catch (error) {
      const name = error instanceof Error ? error.name : "";
      if (GONE.has(name)) {
        await recordLost(info, name);
        await queue.delete(message);
        return { outcome: "lost", records: 0 };
      }
      log("warn", "could not read a failed batch from the stream; retrying later", { messageId: message.id, error: String(error) });
      await queue.retryLater(message, backoffSeconds(message.receiveCount));
      return { outcome: "failed", records: 0 };
    }
    const selected = records.filter((r) => matchesAny(consumer.filterPatterns, r));
    const outcome = selected.length ? await deliver(selected) : { ok: true };
    if (!outcome.ok) {
      log("warn", "replayed batch failed again; retrying later", { messageId: message.id, shardId: info.shardId, error: outcome.error, receiveCount: message.receiveCount });
      await queue.retryLater(message, backoffSeconds(message.receiveCount));
      return { outcome: "failed", records: 0 };
    }
    await queue.delete(message);
    log("info", "replayed a failed batch", { messageId: message.id, shardId: info.shardId, records: selected.length });
    return { outcome: "replayed", records: selected.length };
  }

  return {
    /**
     * Works through the queue until it is empty or the invocation's time is running out
     * (`remainingMs` is Lambda's context.getRemainingTimeInMillis).
     */
    async run(remainingMs: () => number): Promise<RedriveSummary> {
      const summary: RedriveSummary = { replayed: 0, records: 0, lost: 0, failed: 0, stoppedForTime: false };
      for (;;) {
        if (remainingMs() < margin) {
          summary.stoppedForTime = true;
          break;
        }
        const messages = await queue.receive(10, REDRIVE_VISIBILITY_SECONDS);
        if (messages.length === 0) break;
        for (const [index, message] of messages.entries()) {
          if (remainingMs() < margin) {
            // Not started: visible again at once for the next run.
            for (const rest of messages.slice(index)) await queue.retryLater(rest, 0);
            summary.stoppedForTime = true;
            return summary;
          }
          const { outcome, records } = await handle(message);
          summary[outcome] += 1;
          summary.records += records;
        }
      }
      return summary;
    },
  };
}

/** 1, 2, 4, ... minutes by how often it was received, at most an hour: the stream keeps records a day. */
function backoffSeconds(receiveCount: number): number {
  return Math.min(3600, 60 * 2 ** Math.max(0, receiveCount - 1));
}

/** The `DDBStreamBatchInfo` of an on-failure record, or null if the body is not one. */
export function batchInfoOf(body: string): StreamBatchInfo | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  const info = (parsed as { DDBStreamBatchInfo?: Record<string, unknown> } | null)?.DDBStreamBatchInfo;
  if (!info || typeof info !== "object") return null;
  const text = (name: string) => (typeof info[name] === "string" && info[name] !== "" ? (info[name] as string) : null);
  const shardId = text("shardId");
  const start = text("startSequenceNumber");
  const end = text("endSequenceNumber");
  const streamArn = text("streamArn");
  if (!shardId || !start || !end || !streamArn || !/^\d+$/.test(start) || !/^\d+$/.test(end)) return null;
  return {
    shardId,
    startSequenceNumber: start,
    endSequenceNumber: end,
    streamArn,
    ...(text("approximateArrivalOfFirstRecord") ? { approximateArrivalOfFirstRecord: text("approximateArrivalOfFirstRecord")! } : {}),
    ...(text("approximateArrivalOfLastRecord") ? { approximateArrivalOfLastRecord: text("approximateArrivalOfLastRecord")! } : {}),
    ...(typeof info.batchSize === "number" ? { batchSize: info.batchSize } : {}),
  };
}
