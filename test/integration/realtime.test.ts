import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, eventually, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

let platform: Platform;
let model: FakeOpenAI;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  await platform?.stop();
  await model?.close();
});

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function connect(t: Tenant): Promise<TestSocket> {
  const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
  return TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
}

async function agents(t: Tenant) {
  const ceo = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "Ada", roleId: "ceo" } });
  const spec = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "Sol", roleId: "specialist", managerId: ceo.body.id } });
  return { ceo: ceo.body.id as string, spec: spec.body.id as string };
}

describe("WebSocket tokens", () => {
  it("opens a socket with a short-lived token, once", async () => {
    const t = await createTenant(platform);
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });

    const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
    const reuse = TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);

    expect(token.status).toBe(201);
    expect(Date.parse(token.body.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    await expect(reuse).rejects.toMatchObject({ status: 401 });
    socket.send({ action: "ping" });
    expect((await socket.next("pong")).type).toBe("pong");
    socket.close();
  });

  it("refuses a missing, malformed or forged token", async () => {
    const t = await createTenant(platform);
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
    const forged = token.body.token.slice(0, -4) + "0000";

    await expect(TestSocket.open(platform.wsUrl)).rejects.toMatchObject({ status: 401 });
    await expect(TestSocket.open(`${platform.wsUrl}?token=abc`)).rejects.toMatchObject({ status: 401 });
    await expect(TestSocket.open(`${platform.wsUrl}?token=${forged}`)).rejects.toMatchObject({ status: 401 });
  });

  it("issues tokens only to organization keys", async () => {
    const result = await call(platform, "/ws-tokens", { method: "POST", key: platform.operatorKey });

    expect(result.status).toBe(403);
  });
});

describe("chat over WebSocket", () => {
  it("streams chat.delta frames, then chat.done with model, tier and usage", async () => {
    const t = await createTenant(platform);
    const { ceo } = await agents(t);
    model.script({ chunks: ["Our ", "objective ", "is ", "growth."], chunkDelayMs: 60, usage: { prompt_tokens: 50, completion_tokens: 4 } });
    const socket = await connect(t);

    socket.send({ action: "chat", agentId: ceo, message: "What is our objective?", id: "m1" });
    const first = await socket.next("chat.delta");
    const done = await socket.next("chat.done");
    socket.close();

    expect(first).toMatchObject({ id: "m1", agentId: ceo });
    expect(first.delta.length).toBeGreaterThan(0);
    expect(first.delta.length).toBeLessThan("Our objective is growth.".length);
    expect(done).toMatchObject({ id: "m1", reply: "Our objective is growth.", model: "gpt-4o", tier: "llm", offline: false, usage: { inputTokens: 50, outputTokens: 4 } });
  });

  it("answers bad chat frames with an error frame and keeps the connection open", async () => {
    const t = await createTenant(platform);
    const socket = await connect(t);

    socket.send({ action: "chat", agentId: "01jzzzzzzzzzzzzzzzzzzzzzzz", message: "hello?", id: "turn-7" });
    const unknown = await socket.next("error");
    socket.send({ action: "chat", message: "" });
    const empty = await socket.next("error");
    socket.send({ action: "chat", message: "anyone?" });
    const noRoot = await socket.next("error");
    socket.send({ action: "ping", id: "alive" });
    const pong = await socket.next("pong");
    socket.close();

    expect(unknown.problem.status).toBe(404);
    expect(unknown.id).toBe("turn-7");
    expect(empty.problem.errors[0].field).toBe("message");
    expect(noRoot.problem.code).toBe("no_root_agent");
    expect(pong.id).toBe("alive");
  });

  it("answers the organization channel with the root agent and tells subscribers", async () => {
    const t = await createTenant(platform);
    await agents(t);
    model.script("Welcome, everyone.");
    const speaker = await connect(t);
    const listener = await connect(t);
    listener.send({ action: "subscribe", topics: ["channel"] });
    await listener.next("subscribed");

    speaker.send({ action: "chat", message: "Hello all" });
    const done = await speaker.next("chat.done");
    const heard = await listener.next("event");
    speaker.close();
    listener.close();

    expect(done.reply).toBe("Welcome, everyone.");
    expect(heard.event).toMatchObject({ type: "channel.message", data: { message: "Hello all", reply: "Welcome, everyone." } });
  });
});

describe("subscriptions", () => {
  it("pushes a message event through the @connections API to subscribers of the organization only", async () => {
    const t = await createTenant(platform);
    const other = await createTenant(platform);
    const { ceo, spec } = await agents(t);
    const mine = await connect(t);
    const theirs = await connect(other);
    mine.send({ action: "subscribe", topics: ["messages"] });
    theirs.send({ action: "subscribe" });
    await mine.next("subscribed");
    await theirs.next("subscribed");

    await call(platform, `/agents/${ceo}/messages`, { method: "POST", key: t.key, body: { kind: "delegate", to: spec, body: "ship it" } });
    const event = await mine.next("event");
    const leak = theirs.next("event", 500).catch(() => "nothing");

    expect(event.event).toMatchObject({ type: "message.created", orgId: t.org.id, data: { message: { kind: "delegate", from: ceo, to: spec, body: "ship it" } } });
    expect(await leak).toBe("nothing");
    mine.close();
    theirs.close();
  });

  it("pushes usage events after a metered query", async () => {
    const t = await createTenant(platform);
    const socket = await connect(t);
    socket.send({ action: "subscribe", topics: ["usage"] });
    await socket.next("subscribed");

    await call(platform, "/chat/completions", { method: "POST", key: t.key, body: { model: "auto", messages: [{ role: "user", content: "hi" }] } });
    const event = await socket.next("event");
    socket.close();

    expect(event.event).toMatchObject({ type: "usage.updated", data: { tier: "slm", model: "llama-3.2-3b" } });
  });

  it("forgets a connection that is gone on the first failed push", async () => {
    const t = await createTenant(platform);
    const { ceo, spec } = await agents(t);
    const ghost = { pk: `T#${t.org.id}`, sk: "CONN#ghost=", gsi1pk: "CONN#ghost=", gsi1sk: "CONN", entity: "connection", connectionId: "ghost=", orgId: t.org.id, actor: "key:x", connectedAt: new Date().toISOString(), topics: ["messages"] };
    await db.send(new PutCommand({ TableName: platform.tableName, Item: ghost }));

    await call(platform, `/agents/${ceo}/messages`, { method: "POST", key: t.key, body: { kind: "direct", to: spec, body: "anyone?" } });

    const item = await eventually(async () => {
      const { Item } = await db.send(new GetCommand({ TableName: platform.tableName, Key: { pk: ghost.pk, sk: ghost.sk } }));
      return Item ? undefined : "gone";
    });
    expect(item).toBe("gone");
  });

  it("rejects unknown topics", async () => {
    const t = await createTenant(platform);
    const socket = await connect(t);

    socket.send({ action: "subscribe", topics: ["gossip"] });
    const error = await socket.next("error");
    socket.close();

    expect(error.problem.code).toBe("validation_failed");
  });
});
