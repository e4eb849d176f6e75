import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { Permission, QueueConsumerSpec } from "../functions/manifest.types";
import { loadHandler } from "./handlers";
import { invocationContext } from "./invocation-context";
import { runAs } from "./permission-guard";
import { arnOf, type LocalQueues, type ReceivedMessage } from "./sqs-endpoint";

type QueueHandler = (event: SQSEvent, context: unknown) => Promise<SQSBatchResponse | void>;

/** One queue's consumer as the poller runs it (the manifest's consumer, or its dead-letter consumer). */
export interface QueueConsumer {
  queue: string;
  /** The handler string (`functions/queue/agent-worker.handler`); also the invocation's function name. */
  handler: string;
  batchSize: number;
  maxConcurrency: number;
  timeoutMs: number;
  permissions: readonly Permission[];
}

/** The consumers of a manifest queue spec: its worker, and its dead-letter queue's consumer. */
export function consumersOf(spec: QueueConsumerSpec): QueueConsumer[] {
  return [
    { queue: spec.name, handler: spec.handler, batchSize: spec.batchSize, maxConcurrency: spec.maxConcurrency, timeoutMs: spec.timeoutSeconds * 1_000, permissions: spec.permissions },
    {
      queue: spec.deadLetter.name,
      handler: spec.deadLetter.handler,
      batchSize: spec.deadLetter.batchSize,
      maxConcurrency: spec.deadLetter.maxConcurrency,
      timeoutMs: spec.deadLetter.timeoutSeconds * 1_000,
      permissions: spec.deadLetter.permissions,
    },
  ];
}

export interface QueuePollerOptions {
  queues: LocalQueues;
  consumers: QueueConsumer[];
  /** For tests: handlers by handler string instead of loading them. */
  resolveHandler?: (consumer: QueueConsumer) => QueueHandler | undefined;
  /** How long an idle consumer sleeps when nothing wakes it (a delayed message's time is watched anyway). */
  idleMs?: number;
  log?: (line: Record<string, unknown>) => void;
}

/** Lambda's SQS record for a received message. */
function toRecord(queue: string, m: ReceivedMessage): SQSRecord {
  return {
    messageId: m.id,
    receiptHandle: m.receiptHandle,
    body: m.body,
    attributes: {
      ApproximateReceiveCount: String(m.receiveCount),
      SentTimestamp: String(m.sentAt),
      SenderId: "LOCAL",
      ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
    },
    messageAttributes: {},
    md5OfBody: m.md5,
    eventSource: "aws:sqs",
    eventSourceARN: arnOf(queue),
    awsRegion: process.env.AWS_REGION ?? "us-east-1",
  };
}

/**
 * The local stand-in for Lambda's SQS event source mapping: for each consumer it receives batches
 * (up to its batch size) from the local queues and invokes the handler in this process, as its
 * function (local/permission-guard.ts `runAs`) with an invocation context whose remaining time is the
 * function's timeout; at most `maxConcurrency` batches of a consumer run at once. ReportBatchItemFailures:
 * the messages a handler names in `batchItemFailures` stay in flight (they come back after the
 * visibility timeout, counting a receive each), the others are deleted; a handler that throws keeps the
 * whole batch. The dead-letter move is the queue's (local/sqs-endpoint.ts). `stop()` stops receiving
 * and waits for the batches in flight.
 */
export function createQueuePoller({ queues, consumers, resolveHandler, idleMs = 200, log = (line) => console.log(JSON.stringify({ level: "INFO", service: "queue-poller", ...line })) }: QueuePollerOptions) {
  let running = false;
  const inFlight = new Set<Promise<void>>();
  const loops: Promise<void>[] = [];
  const wakers = new Set<() => void>();
  let unsubscribe: (() => void) | undefined;
  let invocations = 0;
  let failures = 0;

  async function handlerOf(consumer: QueueConsumer): Promise<QueueHandler> {
    return resolveHandler?.(consumer) ?? (await loadHandler<QueueHandler>(consumer.handler));
  }

  async function invoke(consumer: QueueConsumer, handler: QueueHandler, batch: ReceivedMessage[]): Promise<void> {
    invocations++;
    const byId = new Map(batch.map((m) => [m.id, m]));
    let keep = new Set<string>();
    try {
      const response = await runAs({ function: consumer.handler, permissions: consumer.permissions }, () =>
        handler({ Records: batch.map((m) => toRecord(consumer.queue, m)) }, invocationContext(consumer.handler, consumer.timeoutMs)),
      );
      // An identifier the batch does not hold fails the whole batch, as Lambda treats it.
      const named = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
      keep = named.every((id) => byId.has(id)) ? new Set(named) : new Set(byId.keys());
    } catch (error) {
      failures++;
      keep = new Set(byId.keys());
      log({ level: "WARN", message: "queue consumer failed; the batch comes back after its visibility timeout", queue: consumer.queue, messages: batch.length, error: String(error) });
    }
    for (const m of batch) if (!keep.has(m.id)) queues.remove(consumer.queue, m.receiptHandle);
  }

  async function loop(consumer: QueueConsumer): Promise<void> {
    // Loaded at the first message, not at start: a platform that never queues anything never loads
    // the worker's modules (the model client, the router's weights).
    let handler: QueueHandler | undefined;
    const mine = new Set<Promise<void>>();
    while (running) {
      if (mine.size < consumer.maxConcurrency && queues.nextVisibleAt(consumer.queue) !== undefined) {
        handler ??= await handlerOf(consumer);
        const batch = queues.receive(consumer.queue, consumer.batchSize);
        if (batch.length) {
          const job: Promise<void> = invoke(consumer, handler, batch).finally(() => {
            mine.delete(job);
            inFlight.delete(job);
            wake();
          });
          mine.add(job);
          inFlight.add(job);
          continue;
        }
      }
      // Nothing to do (or no free slot): sleep until a change, a slot frees, or the next delayed message is due.
      const next = queues.nextVisibleAt(consumer.queue);
      const wait = Math.max(5, Math.min(idleMs, next === undefined ? idleMs : next - Date.now()));
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        wakers.add(done);
      });
    }
  }

  function wake() {
    for (const w of [...wakers]) w();
  }

  return {
    start(): void {
      if (running) return;
      running = true;
      unsubscribe = queues.onChange(wake);
      for (const consumer of consumers) {
        loops.push(
          loop(consumer).catch((error: unknown) => log({ level: "ERROR", message: "queue consumer stopped", queue: consumer.queue, error: String(error) })),
        );
      }
    },
    /**
     * Resolves once every consumer's queue is empty (nothing waiting, delayed or in flight) and no batch
     * runs; rejects after `timeoutMs`. What a batch does may send more messages: they are waited for too.
     */
    async drained(timeoutMs = 30_000): Promise<void> {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const busy = inFlight.size > 0 || consumers.some((c) => queues.size(c.queue) > 0);
        if (!busy) return;
        if (Date.now() > until) throw new Error(`The queues did not drain within ${timeoutMs} ms.`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    status: () => ({ running, inFlight: inFlight.size, invocations, failures }),
    async stop(): Promise<void> {
      running = false;
      unsubscribe?.();
      wake();
      await Promise.all(loops.splice(0));
      await Promise.all([...inFlight]);
    },
  };
}

export type QueuePoller = ReturnType<typeof createQueuePoller>;
