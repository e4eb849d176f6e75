import type { Server } from "node:http";
import { createHash, randomUUID } from "node:crypto";
import { createGuardedServer, readBoundedBody, refuse, requestTarget } from "./http-guards";
import { createSigV4Verifier, type LocalCredentials } from "./sigv4-verifier";

/** SQS's message size limit (256 KiB); a request body may hold a batch of ten, plus JSON overhead. */
export const MAX_SQS_MESSAGE = 256 * 1024;
const MAX_REQUEST_BODY = 11 * MAX_SQS_MESSAGE;
/** SQS's limits on one receive and one batch. */
const MAX_BATCH = 10;
/** SQS's longest message delay and visibility timeout (15 minutes, 12 hours). */
const MAX_DELAY_SECONDS = 900;
const MAX_VISIBILITY_SECONDS = 43_200;
/** The local account id in queue URLs and ARNs. */
export const LOCAL_ACCOUNT = "000000000000";

export interface LocalQueueOptions {
  name: string;
  /** How long a received message stays invisible before it is delivered again (seconds; fractions allowed locally). */
  visibilityTimeoutSeconds: number;
  /** A message received more than this many times moves to `deadLetterQueue` on its next receive. */
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
}

/** One message as the queue holds it. */
export interface LocalQueueMessage {
  id: string;
  body: string;
  md5: string;
  sentAt: number;
  /** Epoch ms before which it is not delivered (delay, or in flight until its visibility timeout). */
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** The handle of its latest receive (only that one deletes it or changes its visibility). */
  receiptHandle?: string;
}

/** A received message: what ReceiveMessage and the queue poller hand out. */
export interface ReceivedMessage {
  id: string;
  body: string;
  md5: string;
  receiptHandle: string;
  receiveCount: number;
  sentAt: number;
  firstReceiveAt: number;
}

export class QueueError extends Error {
  constructor(
    /** The SQS error type (`QueueDoesNotExist`, `ReceiptHandleIsInvalid`, ...). */
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const md5 = (text: string) => createHash("md5").update(text, "utf8").digest("hex");

/**
 * The local queues: SQS semantics in memory (standard queues, in order of sending): DelaySeconds,
 * the visibility timeout (a received message comes back unless deleted within it), the receive count,
 * and the redrive policy (a message received more than maxReceiveCount times moves to its dead-letter
 * queue instead of being delivered again). Like an in-memory platform's data, messages are gone when
 * the process ends. `onChange` listeners wake the queue poller when a message becomes available.
 */
export function createLocalQueues({ now = Date.now }: { now?: () => number } = {}) {
  const queues = new Map<string, LocalQueueOptions & { messages: Map<string, LocalQueueMessage> }>();
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };

  function queue(name: string) {
    const q = queues.get(name);
    if (!q) throw new QueueError("QueueDoesNotExist", `The specified queue ${name} does not exist.`);
    return q;
  }

  function send(name: string, body: string, delaySeconds = 0): { id: string; md5: string } {
    const q = queue(name);
    if (!body.length) throw new QueueError("InvalidParameterValue", "The message body must not be empty.");
    if (Buffer.byteLength(body) > MAX_SQS_MESSAGE) throw new QueueError("InvalidParameterValue", `A message is at most ${MAX_SQS_MESSAGE} bytes.`);
    if (!(delaySeconds >= 0 && delaySeconds <= MAX_DELAY_SECONDS)) throw new QueueError("InvalidParameterValue", `DelaySeconds must be 0 to ${MAX_DELAY_SECONDS}.`);
    const t = now();
    const message: LocalQueueMessage = { id: randomUUID(), body, md5: md5(body), sentAt: t, visibleAt: t + delaySeconds * 1_000, receiveCount: 0 };
    q.messages.set(message.id, message);
    changed();
    return { id: message.id, md5: message.md5 };
  }

  /** Up to `max` visible messages, each now in flight for `visibilitySeconds` (default: the queue's). */
  function receive(name: string, max: number, visibilitySeconds?: number): ReceivedMessage[] {
    const q = queue(name);
    const t = now();
    const out: ReceivedMessage[] = [];
    const visibility = (visibilitySeconds ?? q.visibilityTimeoutSeconds) * 1_000;
    for (const message of [...q.messages.values()]) {
      if (out.length >= Math.min(max, MAX_BATCH)) break;
      if (message.visibleAt > t) continue;
      if (q.redrive && message.receiveCount >= q.redrive.maxReceiveCount) {
        // SQS moves it on the receive after its last allowed one; it keeps its id and body.
        q.messages.delete(message.id);
        const dlq = queue(q.redrive.deadLetterQueue);
        dlq.messages.set(message.id, { ...message, sentAt: t, visibleAt: t, receiveCount: 0, receiptHandle: undefined, firstReceiveAt: undefined });
        changed();
        continue;
      }
      message.receiveCount++;
      message.firstReceiveAt ??= t;
      message.visibleAt = t + visibility;
      message.receiptHandle = `${message.id}:${randomUUID()}`;
      out.push({ id: message.id, body: message.body, md5: message.md5, receiptHandle: message.receiptHandle, receiveCount: message.receiveCount, sentAt: message.sentAt, firstReceiveAt: message.firstReceiveAt });
    }
    return out;
  }

  function inFlight(name: string, receiptHandle: string): LocalQueueMessage | undefined {
    const id = receiptHandle.split(":")[0] ?? "";
    const message = queue(name).messages.get(id);
    return message && message.receiptHandle === receiptHandle ? message : undefined;
  }

  function remove(name: string, receiptHandle: string): void {
    if (!receiptHandle.includes(":")) throw new QueueError("ReceiptHandleIsInvalid", "The receipt handle is not valid.");
    // Deleting a message that is gone (or with an older handle) succeeds, as in SQS.
    const message = inFlight(name, receiptHandle);
    if (message) queue(name).messages.delete(message.id);
    changed();
  }

  function changeVisibility(name: string, receiptHandle: string, seconds: number): void {
    if (!(seconds >= 0 && seconds <= MAX_VISIBILITY_SECONDS)) throw new QueueError("InvalidParameterValue", `VisibilityTimeout must be 0 to ${MAX_VISIBILITY_SECONDS}.`);
    const message = inFlight(name, receiptHandle);
    if (!message || message.visibleAt <= now()) throw new QueueError("MessageNotInflight", "The message is not in flight.");
    message.visibleAt = now() + seconds * 1_000;
    changed();
  }

  function attributes(name: string) {
    const q = queue(name);
    const t = now();
    let visible = 0;
    let notVisible = 0;
    let delayed = 0;
    for (const m of q.messages.values()) {
      if (m.visibleAt <= t) visible++;
      else if (m.receiveCount > 0) notVisible++;
      else delayed++;
    }
    return {
      ApproximateNumberOfMessages: visible,
      ApproximateNumberOfMessagesNotVisible: notVisible,
      ApproximateNumberOfMessagesDelayed: delayed,
      VisibilityTimeout: q.visibilityTimeoutSeconds,
      ...(q.redrive ? { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: arnOf(q.redrive.deadLetterQueue), maxReceiveCount: q.redrive.maxReceiveCount }) } : {}),
    };
  }

  /** The earliest time a message of the queue becomes visible (undefined: the queue is empty). */
  function nextVisibleAt(name: string): number | undefined {
    let next: number | undefined;
    for (const m of queue(name).messages.values()) if (next === undefined || m.visibleAt < next) next = m.visibleAt;
    return next;
  }

  return {
    create(options: LocalQueueOptions): void {
      queues.set(options.name, { ...options, messages: new Map() });
    },
    has: (name: string) => queues.has(name),
    names: () => [...queues.keys()],
    send,
    receive,
    remove,
    changeVisibility,
    attributes,
    nextVisibleAt,
    /** Messages the queue holds: waiting, delayed or in flight. */
    size: (name: string) => queue(name).messages.size,
    /** The messages as they are now (copies), for tests and the dead-letter queue's inspection. */
    peek: (name: string) => [...queue(name).messages.values()].map((m) => ({ ...m })),
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export type LocalQueues = ReturnType<typeof createLocalQueues>;

export const arnOf = (name: string, region = process.env.AWS_REGION ?? "us-east-1") => `arn:aws:sqs:${region}:${LOCAL_ACCOUNT}:${name}`;

export interface SqsEndpointOptions {
  queues: LocalQueues;
  credentials: LocalCredentials;
}

/**
 * The local stand-in for the SQS endpoint, speaking the JSON protocol (AWS JSON 1.0, `X-Amz-Target:
 * AmazonSQS.<Action>`) the real @aws-sdk/client-sqs uses: SendMessage, SendMessageBatch,
 * ReceiveMessage (short polls only), DeleteMessage, DeleteMessageBatch, ChangeMessageVisibility,
 * GetQueueAttributes. The platform binds it to 127.0.0.1; like the @connections endpoint
 * it answers only calls signed (SigV4, service `sqs`) with the platform's per-run credentials.
 * A queue URL is `http://127.0.0.1:<port>/000000000000/<name>`.
 */
export function createSqsEndpoint({ queues, credentials }: SqsEndpointOptions): Server {
  const verifier = createSigV4Verifier({ credentials, service: "sqs" });

  const nameOf = (queueUrl: unknown): string => {
    const name = typeof queueUrl === "string" ? queueUrl.split("/").pop() : undefined;
    if (!name || !queues.has(name)) throw new QueueError("QueueDoesNotExist", "The specified queue does not exist.");
    return name;
  };
  const entriesOf = (input: Record<string, unknown>): Record<string, unknown>[] => {
    const entries = input.Entries;
    if (!Array.isArray(entries) || !entries.length) throw new QueueError("EmptyBatchRequest", "There should be at least one entry in the request.");
    if (entries.length > MAX_BATCH) throw new QueueError("TooManyEntriesInBatchRequest", `At most ${MAX_BATCH} entries.`);
    return entries as Record<string, unknown>[];
  };
  /** A batch: each entry succeeds or fails on its own, as SQS answers. */
  const batch = (entries: Record<string, unknown>[], each: (entry: Record<string, unknown>) => Record<string, unknown>) => {
    const Successful: Record<string, unknown>[] = [];
    const Failed: Record<string, unknown>[] = [];
    for (const entry of entries) {
      try {
        Successful.push({ Id: entry.Id, ...each(entry) });
      } catch (error) {
        if (!(error instanceof QueueError)) throw error;
        Failed.push({ Id: entry.Id, SenderFault: true, Code: error.type, Message: error.message });
      }
    }
    return { Successful, Failed };
  };

  const actions: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
    SendMessage(input) {
      const sent = queues.send(nameOf(input.QueueUrl), String(input.MessageBody ?? ""), Number(input.DelaySeconds ?? 0));
      return { MessageId: sent.id, MD5OfMessageBody: sent.md5 };
    },
    SendMessageBatch(input) {
      const name = nameOf(input.QueueUrl);
      return batch(entriesOf(input), (e) => {
        const sent = queues.send(name, String(e.MessageBody ?? ""), Number(e.DelaySeconds ?? 0));
        return { MessageId: sent.id, MD5OfMessageBody: sent.md5 };
      });
    },
    ReceiveMessage(input) {
      const max = Number(input.MaxNumberOfMessages ?? 1);
      if (!(max >= 1 && max <= MAX_BATCH)) throw new QueueError("InvalidParameterValue", `MaxNumberOfMessages must be 1 to ${MAX_BATCH}.`);
      const messages = queues.receive(nameOf(input.QueueUrl), max, input.VisibilityTimeout === undefined ? undefined : Number(input.VisibilityTimeout));
      return {
        Messages: messages.map((m) => ({
          MessageId: m.id,
          ReceiptHandle: m.receiptHandle,
          MD5OfBody: m.md5,
          Body: m.body,
          Attributes: { ApproximateReceiveCount: String(m.receiveCount), SentTimestamp: String(m.sentAt), ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt) },
        })),
      };
    },
    DeleteMessage(input) {
      queues.remove(nameOf(input.QueueUrl), String(input.ReceiptHandle ?? ""));
      return {};
    },
    DeleteMessageBatch(input) {
      const name = nameOf(input.QueueUrl);
      return batch(entriesOf(input), (e) => (queues.remove(name, String(e.ReceiptHandle ?? "")), {}));
    },
    ChangeMessageVisibility(input) {
      queues.changeVisibility(nameOf(input.QueueUrl), String(input.ReceiptHandle ?? ""), Number(input.VisibilityTimeout));
      return {};
    },
    GetQueueAttributes(input) {
      const all = queues.attributes(nameOf(input.QueueUrl));
      return { Attributes: Object.fromEntries(Object.entries(all).map(([k, v]) => [k, String(v)])) };
    },
  };

  return createGuardedServer(async (req, res) => {
    // Errors by their JSON `__type` only (no x-amzn-query-error): the SDK names them `QueueDoesNotExist`, ...
    const answer = (status: number, body: Record<string, unknown>): void => {
      res.writeHead(status, { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": randomUUID() }).end(JSON.stringify(body));
    };
    const fail = (type: string, message: string, status = 400) => answer(status, { __type: `com.amazonaws.sqs#${type}`, message });

    const target = requestTarget(req.url);
    if (!target || req.method !== "POST") {
      refuse(res, 400, { "content-type": "application/x-amz-json-1.0" }, JSON.stringify({ __type: "com.amazonaws.sqs#InvalidAction", message: "POST with X-Amz-Target only." }));
      return;
    }
    const pre = verifier.precheck(req);
    if (!pre.ok) {
      refuse(res, 403, { "content-type": "application/x-amz-json-1.0" }, JSON.stringify({ __type: "com.amazon.coral.service#AccessDeniedException", message: pre.reason }));
      return;
    }
    const body = await readBoundedBody(req, MAX_REQUEST_BODY);
    if (body === "too_large") return fail("BatchRequestTooLong", "The request is too long.", 413);
    const verdict = await verifier.verify(req, target.path, target.search, body);
    if (!verdict.ok) return answer(403, { __type: "com.amazon.coral.service#AccessDeniedException", message: verdict.reason });

    const action = String(req.headers["x-amz-target"] ?? "").replace(/^AmazonSQS\./, "");
    const run = Object.hasOwn(actions, action) ? actions[action] : undefined;
    if (!run) return fail("InvalidAction", `The action ${action || "(none)"} is not valid for this endpoint.`);
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString("utf8") || "{}") as Record<string, unknown>;
    } catch {
      return fail("InvalidParameterValue", "The request body is not JSON.");
    }
    try {
      answer(200, run(input ?? {}));
    } catch (error) {
      if (error instanceof QueueError) return fail(error.type, error.message);
      throw error;
    }
  });
}
