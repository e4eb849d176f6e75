import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type Shard,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import type { StreamConsumerSpec } from "../functions/manifest.types";
import { matchesAny } from "./event-filter";
import { loadHandler } from "./handlers";

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  endpoint: string;
  region: string;
  streamArn: string;
  consumers: StreamConsumerSpec[];
  /** Resume points per consumer and shard survive a restart here (unset: start from the oldest record). */
  checkpointFile?: string;
  /** Records that still failed after every retry go here, like an on-failure destination. */
  failureFile?: string;
  /** Retries of a failing batch before it is sent to the failure destination (the mapping's retryAttempts). */
  maxRetries?: number;
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

/**
 * The local stand-in for Lambda's DynamoDB event source mapping: reads the table's stream with the
 * real Streams API, hands each consumer Lambda-shaped batches in shard order, applies the consumer's
 * filter patterns (records that do not match are dropped, as Lambda does), and honours partial batch
 * responses: processing resumes at the first failed record, a thrown error bisects the batch, and
 * after `maxRetries` the records go to the failure file.
 */
export function createStreamPoller(options: StreamPollerOptions) {
  const client = new DynamoDBStreamsClient({
    endpoint: options.endpoint,
    region: options.region,
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
  const log = options.log ?? ((line) => console.log(JSON.stringify({ level: "INFO", service: "stream-poller", ...line })));
  const maxRetries = options.maxRetries ?? 3;
  const interval = options.pollIntervalMs ?? 250;
  const checkpoints: Record<string, string> =
    options.checkpointFile && existsSync(options.checkpointFile) ? JSON.parse(readFileSync(options.checkpointFile, "utf8")) : {};
  const consumers = options.consumers.map((spec) => ({
    spec,
    shards: new Map<string, ShardState>(),
  }));
  let running = false;
  let loop: Promise<void> | undefined;
  let waiters: { after: number; resolve: () => void }[] = [];
  let polls = 0;

  const checkpointKey = (consumer: string, shardId: string) => `${consumer}/${shardId}`;
  function saveCheckpoint(consumer: string, shardId: string, sequenceNumber: string) {
    checkpoints[checkpointKey(consumer, shardId)] = sequenceNumber;
    if (options.checkpointFile) writeFileSync(options.checkpointFile, JSON.stringify(checkpoints));
  }

  async function listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let start: string | undefined;
    do {
      const { StreamDescription } = await client.send(
        new DescribeStreamCommand({ StreamArn: options.streamArn, ExclusiveStartShardId: start }),
      );
      shards.push(...(StreamDescription?.Shards ?? []));
      start = StreamDescription?.LastEvaluatedShardId;
    } while (start);
    return shards;
  }

  async function iteratorFor(consumer: string, shard: Shard): Promise<string | undefined> {
    const after = checkpoints[checkpointKey(consumer, shard.ShardId!)];
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamArn: options.streamArn,
        ShardId: shard.ShardId!,
        ShardIteratorType: after ? "AFTER_SEQUENCE_NUMBER" : "TRIM_HORIZON",
        ...(after ? { SequenceNumber: after } : {}),
      }),
    );
    return ShardIterator;
  }

  function toLambdaRecord(record: _Record): DynamoDBRecord {
    const d = record.dynamodb!;
    const created = d.ApproximateCreationDateTime;
    return {
      eventID: record.eventID!,
      eventName: record.eventName as DynamoDBRecord["eventName"],
      eventVersion: record.eventVersion ?? "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: options.region,
      // DynamoDB Local gives a Date (rounded to the minute) and no ARN; Lambda gives epoch seconds and the ARN.
      dynamodb: {
        ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
        Keys: d.Keys as never,
        ...(d.NewImage ? { NewImage: d.NewImage as never } : {}),
        ...(d.OldImage ? { OldImage: d.OldImage as never } : {}),
        SequenceNumber: d.SequenceNumber!,
        SizeBytes: d.SizeBytes!,
        StreamViewType: d.StreamViewType as never,
      },
      eventSourceARN: options.streamArn,
      ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
    };
  }

  /** Delivers one batch with Lambda's retry semantics; returns when every record is handled or parked. */
  async function deliver(spec: StreamConsumerSpec, handler: StreamHandler, records: DynamoDBRecord[]): Promise<void> {
    let pending = records;
    let attempt = 0;
    while (pending.length) {
      let failedFrom: number | undefined;
      try {
        const response = await handler({ Records: pending });
        const failures = response?.batchItemFailures ?? [];
        if (failures.length === 0) return;
        const ids = new Set(failures.map((f) => f.itemIdentifier));
        failedFrom = pending.findIndex((r) => ids.has(r.dynamodb!.SequenceNumber!));
        if (failedFrom < 0) failedFrom = 0; // an identifier we did not send: Lambda retries the whole batch
      } catch (error) {
        log({ message: "consumer failed", consumer: spec.name, error: String(error), records: pending.length, attempt });
        if (pending.length > 1) {
          // BisectBatchOnFunctionError: retry each half on its own, so one poison record does not block the rest.
          const half = Math.ceil(pending.length / 2);
          await deliver(spec, handler, pending.slice(0, half));
          await deliver(spec, handler, pending.slice(half));
          return;
        }
        failedFrom = 0;
      }
      pending = pending.slice(failedFrom);
      attempt += 1;
      if (attempt > maxRetries) {
        log({ message: "records sent to the failure destination", consumer: spec.name, records: pending.length });
        if (options.failureFile) {
          for (const record of pending) appendFileSync(options.failureFile, JSON.stringify({ consumer: spec.name, record }) + "\n");
        }
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt)));
    }
  }

  async function pollOnce(): Promise<boolean> {
    let sawRecords = false;
    const shards = await listShards();
    for (const consumer of consumers) {
      for (const shard of shards) {
        if (!consumer.shards.has(shard.ShardId!)) consumer.shards.set(shard.ShardId!, { shard, done: false });
      }
      const handler = options.resolveHandler?.(consumer.spec) ?? (await loadHandler<StreamHandler>(consumer.spec.handler));
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
        let result;
        try {
          result = await client.send(new GetRecordsCommand({ ShardIterator: state.iterator, Limit: consumer.spec.batchSize }));
        } catch (error) {
          if (error instanceof ExpiredIteratorException) {
            state.iterator = undefined;
            continue;
          }
          throw error;
        }
        const records = (result.Records ?? []).map(toLambdaRecord);
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
          } catch (error) {
            log({ message: "poll failed", error: String(error) });
          }
          if (!more) {
            waiters = waiters.filter((w) => (w.after < seq ? (w.resolve(), false) : true));
            await new Promise((r) => setTimeout(r, interval));
          }
        }
      })();
    },
    /**
     * Resolves after a poll that started after this call found nothing new: what was written (and
     * visible in the stream) before the call has been delivered.
     */
    drained(): Promise<void> {
      return new Promise((resolve) => waiters.push({ after: polls, resolve }));
    },
    async stop() {
      running = false;
      await loop;
      client.destroy();
    },
  };
}
