import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { createLocalQueues, createSqsEndpoint, LOCAL_ACCOUNT } from "../../../local/sqs-endpoint";
import { createQueuePoller, type QueueConsumer } from "../../../local/queue-poller";

/*
 * The local SQS stand-in (local/sqs-endpoint.ts) driven by the real @aws-sdk/client-sqs over HTTP,
 * and the event-source-mapping emulation (local/queue-poller.ts). The queues' clock is a manual one
 * where time matters (visibility, delays): nothing here waits for time to pass.
 */
const credentials = { accessKeyId: "LOCALTESTKEY", secretAccessKey: "local-test-secret" };
let clock = 1_000_000;
const queues = createLocalQueues({ now: () => clock });
let server: Server;
let base: string;
const url = (name: string) => `${base}/${LOCAL_ACCOUNT}/${name}`;
const sqs = (c = credentials) => new SQSClient({ region: "us-east-1", credentials: c, maxAttempts: 1 });
const client = sqs();

beforeAll(async () => {
  queues.create({ name: "dlq", visibilityTimeoutSeconds: 30 });
  queues.create({ name: "work", visibilityTimeoutSeconds: 30, redrive: { deadLetterQueue: "dlq", maxReceiveCount: 2 } });
  queues.create({ name: "plain", visibilityTimeoutSeconds: 10 });
  server = createSqsEndpoint({ queues, credentials });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  client.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const receive = async (name: string, max = 10) => (await client.send(new ReceiveMessageCommand({ QueueUrl: url(name), MaxNumberOfMessages: max, MessageSystemAttributeNames: ["All"] }))).Messages ?? [];

describe("local SQS endpoint", () => {
  it("sends, receives (with the receive count) and deletes through the real SDK (MD5s checked by it)", async () => {
    const sent = await client.send(new SendMessageCommand({ QueueUrl: url("plain"), MessageBody: "hello" }));
    const [message] = await receive("plain");
    expect(message).toMatchObject({ MessageId: sent.MessageId, Body: "hello", Attributes: { ApproximateReceiveCount: "1" } });
    await client.send(new DeleteMessageCommand({ QueueUrl: url("plain"), ReceiptHandle: message!.ReceiptHandle }));
    expect(queues.size("plain")).toBe(0);
  });

  it("hides a received message for its visibility timeout, then delivers it again with a higher count", async () => {
    await client.send(new SendMessageCommand({ QueueUrl: url("plain"), MessageBody: "again" }));
    expect(await receive("plain")).toHaveLength(1);
    expect(await receive("plain")).toHaveLength(0);
    clock += 10_001;
    const [second] = await receive("plain");
    expect(second?.Attributes?.ApproximateReceiveCount).toBe("2");
    // A visibility change with the latest receipt handle: visible at once.
    await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url("plain"), ReceiptHandle: second!.ReceiptHandle, VisibilityTimeout: 0 }));
    const [third] = await receive("plain");
    expect(third?.Attributes?.ApproximateReceiveCount).toBe("3");
    await client.send(new DeleteMessageBatchCommand({ QueueUrl: url("plain"), Entries: [{ Id: "a", ReceiptHandle: third!.ReceiptHandle }] }));
    expect(queues.size("plain")).toBe(0);
  });

  it("delays a message by its DelaySeconds", async () => {
    await client.send(new SendMessageBatchCommand({ QueueUrl: url("plain"), Entries: [{ Id: "1", MessageBody: "later", DelaySeconds: 5 }, { Id: "2", MessageBody: "now" }] }));
    expect((await receive("plain")).map((m) => m.Body)).toEqual(["now"]);
    const attributes = await client.send(new GetQueueAttributesCommand({ QueueUrl: url("plain"), AttributeNames: ["All"] }));
    expect(attributes.Attributes).toMatchObject({ ApproximateNumberOfMessagesDelayed: "1", ApproximateNumberOfMessagesNotVisible: "1" });
    clock += 5_000;
    expect((await receive("plain")).map((m) => m.Body)).toEqual(["later"]);
    clock += 10_001;
    for (const m of await receive("plain")) await client.send(new DeleteMessageCommand({ QueueUrl: url("plain"), ReceiptHandle: m.ReceiptHandle }));
    expect(queues.size("plain")).toBe(0);
  });

  it("moves a message received more than maxReceiveCount times to the dead-letter queue", async () => {
    await client.send(new SendMessageCommand({ QueueUrl: url("work"), MessageBody: "doomed" }));
    for (let n = 1; n <= 2; n++) {
      expect((await receive("work")).map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual([String(n)]);
      clock += 30_001;
    }
    expect(await receive("work")).toHaveLength(0);
    const [dead] = await receive("dlq");
    expect(dead).toMatchObject({ Body: "doomed", Attributes: { ApproximateReceiveCount: "1" } });
  });

  it("answers SQS's errors: an unknown queue, a stale receipt handle's visibility change", async () => {
    await expect(client.send(new SendMessageCommand({ QueueUrl: url("nope"), MessageBody: "x" }))).rejects.toMatchObject({ name: "QueueDoesNotExist" });
    await client.send(new SendMessageCommand({ QueueUrl: url("plain"), MessageBody: "x" }));
    const [m] = await receive("plain");
    clock += 10_001;
    await receive("plain");
    await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: url("plain"), ReceiptHandle: m!.ReceiptHandle, VisibilityTimeout: 0 }))).rejects.toMatchObject({ name: "MessageNotInflight" });
  });

  it("refuses calls not signed with the platform's credentials", async () => {
    const stranger = sqs({ accessKeyId: credentials.accessKeyId, secretAccessKey: "wrong" });
    await expect(stranger.send(new SendMessageCommand({ QueueUrl: url("plain"), MessageBody: "x" }))).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    stranger.destroy();
  });
});

describe("local queue poller", () => {
  /** Waits (bounded) until `check` holds. */
  async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  it("deletes what succeeded, retries the reported failures until the dead-letter queue takes them", async () => {
    // The real clock: failed messages come back after a short visibility timeout.
    const live = createLocalQueues();
    live.create({ name: "dead", visibilityTimeoutSeconds: 1 });
    live.create({ name: "jobs", visibilityTimeoutSeconds: 0.02, redrive: { deadLetterQueue: "dead", maxReceiveCount: 3 } });
    const seen: string[] = [];
    const consumer: QueueConsumer = { queue: "jobs", handler: "test.jobs", batchSize: 10, maxConcurrency: 1, timeoutMs: 1_000, permissions: [] };
    const poller = createQueuePoller({
      queues: live,
      consumers: [consumer],
      resolveHandler: () => async (event: SQSEvent) => {
        seen.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
        return { batchItemFailures: event.Records.filter((r) => r.body === "bad").map((r) => ({ itemIdentifier: r.messageId })) };
      },
      log: () => undefined,
    });
    live.send("jobs", "good-1");
    live.send("jobs", "bad");
    live.send("jobs", "good-2");
    poller.start();
    await until(() => live.size("dead") === 1, "the dead-letter queue");
    await poller.drained(5_000);
    await poller.stop();
    expect(seen.filter((s) => s.startsWith("good")).sort()).toEqual(["good-1#1", "good-2#1"]);
    expect(seen.filter((s) => s.startsWith("bad"))).toEqual(["bad#1", "bad#2", "bad#3"]);
    expect(live.peek("dead").map((m) => m.body)).toEqual(["bad"]);
    expect(live.size("jobs")).toBe(0);
  });

  it("keeps the whole batch when the handler throws, and runs at most maxConcurrency batches at once", async () => {
    const live = createLocalQueues();
    live.create({ name: "d", visibilityTimeoutSeconds: 1 });
    live.create({ name: "q", visibilityTimeoutSeconds: 0.02, redrive: { deadLetterQueue: "d", maxReceiveCount: 5 } });
    let running = 0;
    let most = 0;
    let thrown = 0;
    const done: string[] = [];
    const poller = createQueuePoller({
      queues: live,
      consumers: [{ queue: "q", handler: "test.q", batchSize: 1, maxConcurrency: 2, timeoutMs: 1_000, permissions: [] }],
      resolveHandler: () => async (event: SQSEvent) => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        const body = event.Records[0]!.body;
        if (body === "flaky" && event.Records[0]!.attributes.ApproximateReceiveCount === "1") {
          thrown++;
          throw new Error("first attempt fails");
        }
        done.push(body);
      },
      log: () => undefined,
    });
    for (const body of ["a", "b", "c", "d", "e", "flaky"]) live.send("q", body);
    poller.start();
    await poller.drained(10_000);
    await poller.stop();
    expect(done.sort()).toEqual(["a", "b", "c", "d", "e", "flaky"]);
    expect(thrown).toBe(1);
    expect(most).toBeLessThanOrEqual(2);
    expect(most).toBe(2);
  });
});
