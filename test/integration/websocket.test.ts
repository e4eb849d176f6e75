import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { createTenant, eventually, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

let platform: Platform;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let management: ApiGatewayManagementApiClient;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  platform = await startTestPlatform();
  tenant = await createTenant(platform);
  management = new ApiGatewayManagementApiClient({ endpoint: platform.connectionsEndpoint, region: "us-east-1" });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  await platform?.stop();
});

const open = () => TestSocket.open(platform.wsUrl, { authorization: `Bearer ${tenant.key}` });

/** Opens a socket and finds its connection item: the one that was not there before. */
async function openTracked() {
  const before = new Set((await connectionItems()).map((i) => i.connectionId));
  const socket = await open();
  const item = await eventually(async () => (await connectionItems()).find((i) => !before.has(i.connectionId)), 5_000, "connection item");
  return { socket, item, connectionId: item.connectionId as string };
}

const gone = async (connectionId: string) =>
  eventually(async () => ((await connectionItems()).some((i) => i.connectionId === connectionId) ? undefined : true), 5_000, "disconnect");

/** The tenant's connection items, as stored. */
async function connectionItems() {
  const { Items } = await db.send(
    new QueryCommand({
      TableName: platform.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :c)",
      ExpressionAttributeValues: { ":pk": `T#${tenant.org.id}`, ":c": "CONN#" },
    }),
  );
  return Items ?? [];
}

describe("WebSocket gateway", () => {
  it("refuses a connection without a valid key", async () => {
    await expect(TestSocket.open(platform.wsUrl)).rejects.toMatchObject({ status: 401 });
    await expect(TestSocket.open(platform.wsUrl, { authorization: "Bearer nope" })).rejects.toMatchObject({ status: 401 });
  });

  it("refuses the operator key: connections belong to an organization", async () => {
    await expect(TestSocket.open(platform.wsUrl, { authorization: `Bearer ${platform.operatorKey}` })).rejects.toMatchObject({ status: 403 });
  });

  it("answers ping with pong through the @connections API", async () => {
    const socket = await open();

    socket.send({ action: "ping", id: "p1" });
    const pong = await socket.next("pong");

    expect(pong).toMatchObject({ type: "pong", id: "p1" });
    socket.close();
  });

  it("answers an unknown action or a non-JSON frame with an error frame and stays open", async () => {
    const socket = await open();

    socket.send({ action: "dance" });
    const unknown = await socket.next("error");
    socket.send("not json");
    const garbage = await socket.next("error");
    socket.send({ action: "ping", id: "still-open" });
    const pong = await socket.next("pong");

    expect(unknown.problem).toMatchObject({ status: 400, code: "unknown_action" });
    expect(unknown.problem.detail).toContain("ping");
    expect(garbage.problem.code).toBe("unknown_action");
    expect(pong.id).toBe("still-open");
    socket.close();
  });

  it("answers an invalid ping frame with a validation error", async () => {
    const socket = await open();

    socket.send({ action: "ping", id: 42 });
    const error = await socket.next("error");

    expect(error.problem).toMatchObject({ code: "validation_failed", errors: [expect.objectContaining({ field: "id" })] });
    socket.close();
  });

  it("records the connection with a TTL and forgets it on disconnect", async () => {
    const { socket, item, connectionId } = await openTracked();

    socket.close();
    await gone(connectionId);

    expect(item).toMatchObject({ entity: "connection", orgId: tenant.org.id, actor: `key:${tenant.keyId}` });
    expect(item.ttl).toBeGreaterThan(Date.now() / 1000 + 7000);
  });

  it("lets the real management client post to, describe and drop a connection", async () => {
    const { socket, connectionId } = await openTracked();

    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify({ type: "event", n: 1 })) }));
    const pushed = await socket.next("event");
    const described = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    const closed = await socket.closed;

    expect(pushed).toEqual({ type: "event", n: 1 });
    expect(described.ConnectedAt).toBeInstanceOf(Date);
    expect(described.Identity?.SourceIp).toBeTruthy();
    expect(closed.code).toBe(1000);
    await gone(connectionId);
  });

  it("gives GoneException for a connection that is closed", async () => {
    const { socket, connectionId } = await openTracked();
    socket.close();
    await socket.closed;

    const post = management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from("{}") }));

    await expect(post).rejects.toBeInstanceOf(GoneException);
  });
});
