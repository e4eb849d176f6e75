import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { keys } from "../../core/db/keys";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

/**
 * Invariant: revoking a key or closing an organization takes effect on WebSockets too, within the
 * window the README states (5 s): its unused tokens are refused, its open sockets are closed, and
 * no frame runs on its credentials afterwards. Other keys and other organizations are untouched.
 */
const WINDOW_MS = 5_000;

let platform: Platform;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  platform = await startTestPlatform();
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  db?.destroy();
  await platform?.stop();
});

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function token(key: string): Promise<string> {
  const minted = await call(platform, "/ws-tokens", { method: "POST", key });
  expect(minted.status).toBe(201);
  return minted.body.token;
}

async function open(key: string): Promise<TestSocket> {
  const socket = await TestSocket.open(`${platform.wsUrl}?token=${await token(key)}`);
  socket.send({ action: "ping" });
  await socket.next("pong");
  return socket;
}

async function secondKey(t: Tenant): Promise<{ key: string; keyId: string }> {
  const created = await call(platform, `/organizations/${t.org.id}/api-keys`, { method: "POST", key: platform.operatorKey, body: { name: "second" } });
  return { key: created.body.secret, keyId: created.body.id };
}

describe("revocation reaches WebSockets", () => {
  it("refuses a token minted before its key was revoked", async () => {
    const t = await createTenant(platform);
    const minted = await token(t.key);

    await call(platform, `/organizations/${t.org.id}/api-keys/${t.keyId}`, { method: "DELETE", key: platform.operatorKey });

    await expect(TestSocket.open(`${platform.wsUrl}?token=${minted}`)).rejects.toMatchObject({ status: 401 });
  });

  it("refuses a token minted before its organization was closed", async () => {
    const t = await createTenant(platform);
    const minted = await token(t.key);

    await call(platform, `/organizations/${t.org.id}`, { method: "DELETE", key: platform.operatorKey });

    await expect(TestSocket.open(`${platform.wsUrl}?token=${minted}`)).rejects.toMatchObject({ status: 401 });
  });

  it("closes the sockets of a revoked key within the window, and only those", async () => {
    const t = await createTenant(platform);
    const other = await secondKey(t);
    const revokedSocket = await open(t.key);
    const keptSocket = await open(other.key);

    const started = Date.now();
    const revoked = await call(platform, `/organizations/${t.org.id}/api-keys/${t.keyId}`, { method: "DELETE", key: platform.operatorKey });
    const code = await revokedSocket.closedWithin(WINDOW_MS);

    expect(revoked.status).toBe(200);
    expect(code).not.toBe("open");
    expect(Date.now() - started).toBeLessThan(WINDOW_MS);
    keptSocket.send({ action: "ping" });
    expect((await keptSocket.next("pong")).type).toBe("pong");
    keptSocket.close();
  });

  it("closes every socket of a closed organization, and no other organization's", async () => {
    const closing = await createTenant(platform);
    const neighbour = await createTenant(platform);
    const sockets = await Promise.all([open(closing.key), open(closing.key), open((await secondKey(closing)).key)]);
    const neighbourSocket = await open(neighbour.key);

    await call(platform, `/organizations/${closing.org.id}`, { method: "DELETE", key: platform.operatorKey });
    const codes = await Promise.all(sockets.map((s) => s.closedWithin(WINDOW_MS)));

    expect(codes.every((c) => c !== "open")).toBe(true);
    neighbourSocket.send({ action: "ping" });
    expect((await neighbourSocket.next("pong")).type).toBe("pong");
    neighbourSocket.close();
  });
});

describe("the stream backstop", () => {
  it("closes the sockets of a key revoked by a write that bypassed the API", async () => {
    const t = await createTenant(platform);
    const socket = await open(t.key);

    await db.send(
      new UpdateCommand({ TableName: platform.tableName, Key: keys.apiKey(t.org.id, t.keyId), UpdateExpression: "SET revokedAt = :now", ExpressionAttributeValues: { ":now": new Date().toISOString() } }),
    );

    expect(await socket.closedWithin(WINDOW_MS)).not.toBe("open");
  });

  it("closes the sockets of an organization closed by a write that bypassed the API", async () => {
    const t = await createTenant(platform);
    const socket = await open(t.key);

    await db.send(
      new UpdateCommand({
        TableName: platform.tableName,
        Key: keys.organization(t.org.id),
        UpdateExpression: "SET #s = :closed",
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":closed": "closed" },
      }),
    );

    expect(await socket.closedWithin(WINDOW_MS)).not.toBe("open");
  });
});
