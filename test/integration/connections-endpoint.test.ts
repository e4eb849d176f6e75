import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { SignatureV4 } from "@smithy/signature-v4";
import { MAX_CONNECTIONS_BODY } from "../../local/connections-endpoint";
import type { Platform } from "../../local/platform";
import { Sha256 } from "../../local/sigv4-verifier";
import { createTenant, eventually, startTestPlatform } from "../support/platform";
import { upload } from "../support/raw-http";
import { TestSocket } from "../support/ws-client";

/**
 * Issue 10, defect 9: the @connections management API (send to, describe, close any socket) is not on
 * the public port. It has its own listener on 127.0.0.1, and every call must be SigV4-signed with the
 * platform's per-run credentials, as the real management client signs it; bodies are bounded.
 */
let platform: Platform;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let db: DynamoDBDocumentClient;
let endpoint: URL;

beforeAll(async () => {
  platform = await startTestPlatform();
  tenant = await createTenant(platform);
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
  endpoint = new URL(platform.connectionsEndpoint);
});
afterAll(async () => {
  await platform?.stop();
});

const client = (credentials = platform.connectionsCredentials, extra: Record<string, unknown> = {}) =>
  new ApiGatewayManagementApiClient({ endpoint: platform.connectionsEndpoint, region: "us-east-1", credentials, maxAttempts: 1, ...extra });

/** Opens a tenant socket and finds its connection id (the connection item that was not there before). */
async function openTracked() {
  const items = async () =>
    (
      await db.send(
        new QueryCommand({
          TableName: platform.tableName,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :c)",
          ExpressionAttributeValues: { ":pk": `T#${tenant.org.id}`, ":c": "CONN#" },
        }),
      )
    ).Items?.map((i) => i.connectionId as string) ?? [];
  const before = new Set(await items());
  const socket = await TestSocket.open(platform.wsUrl, { authorization: `Bearer ${tenant.key}` });
  const connectionId = await eventually(async () => (await items()).find((id) => !before.has(id)), 5_000, "connection item");
  return { socket, connectionId };
}

const forged = { type: "chat.done", reply: "forged" };
const path = (connectionId: string) => `${endpoint.pathname}/@connections/${encodeURIComponent(connectionId)}`;

/** Signs a request to the endpoint by hand (to forge what the SDK would not send: old dates, other bodies). */
async function signed(
  method: string,
  target: string,
  body: string,
  options: { secret?: string; signingDate?: Date; sendBody?: string; sendPath?: string } = {},
): Promise<Response> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: platform.connectionsCredentials.accessKeyId, secretAccessKey: options.secret ?? platform.connectionsCredentials.secretAccessKey },
    region: "us-east-1",
    service: "execute-api",
    sha256: Sha256,
  });
  const request = await signer.sign(
    { method, protocol: "http:", hostname: endpoint.hostname, port: Number(endpoint.port), path: target, query: {}, headers: { host: endpoint.host, "content-type": "application/json" }, body },
    { signingDate: options.signingDate ?? new Date() },
  );
  return fetch(`${endpoint.origin}${options.sendPath ?? target}`, { method, headers: request.headers as Record<string, string>, body: method === "GET" ? undefined : (options.sendBody ?? body) });
}

describe("@connections endpoint", () => {
  it("listens on 127.0.0.1 only, on its own port", async () => {
    expect(endpoint.hostname).toBe("127.0.0.1");
    expect(endpoint.port).not.toBe(new URL(platform.url).port);
    // From another address of this machine, nothing answers on that port.
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (external) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect(Number(endpoint.port), external);
        socket.once("connect", () => (socket.destroy(), resolve("connected")));
        socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? "error"));
      });
      expect(outcome).toBe("ECONNREFUSED");
    }
  });

  it("is gone from the public port: a forged chat.done there answers 404 and reaches no one", async () => {
    const { socket, connectionId } = await openTracked();

    const response = await fetch(`${platform.url}${path(connectionId)}`, { method: "POST", body: JSON.stringify(forged) });

    expect(response.status).toBe(404);
    socket.send({ action: "ping", id: "p" });
    await socket.next("pong");
    await expect(socket.next("chat.done", 300)).rejects.toThrow(/no 'chat.done'/);
    socket.close();
  });

  it("refuses unsigned calls with 403: no post, no client IP, no close", async () => {
    const { socket, connectionId } = await openTracked();

    const post = await fetch(`${endpoint.origin}${path(connectionId)}`, { method: "POST", body: JSON.stringify(forged) });
    const get = await fetch(`${endpoint.origin}${path(connectionId)}`);
    const del = await fetch(`${endpoint.origin}${path(connectionId)}`, { method: "DELETE" });

    for (const response of [post, get, del]) {
      expect(response.status).toBe(403);
      expect(response.headers.get("x-amzn-errortype")).toBe("ForbiddenException");
      expect(response.headers.get("content-type")).toBe("application/problem+json");
    }
    expect(await get.text()).not.toMatch(/sourceIp|127\.0\.0\.1/);
    socket.send({ action: "ping", id: "still-open" });
    expect(await socket.next("pong")).toMatchObject({ id: "still-open" });
    await expect(socket.next("chat.done", 300)).rejects.toThrow(/no 'chat.done'/);
    socket.close();
  });

  it("refuses a call signed with another secret or another access key", async () => {
    const { socket, connectionId } = await openTracked();

    const otherSecret = client({ accessKeyId: platform.connectionsCredentials.accessKeyId, secretAccessKey: "not-the-secret" });
    const otherKey = client({ accessKeyId: "AKIAOTHER", secretAccessKey: platform.connectionsCredentials.secretAccessKey });

    await expect(otherSecret.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(forged)) }))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(otherKey.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(ForbiddenException);
    await expect(otherSecret.send(new DeleteConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(ForbiddenException);
    socket.send({ action: "ping", id: "alive" });
    expect(await socket.next("pong")).toMatchObject({ id: "alive" });
    socket.close();
  });

  it("refuses a stale signature, a body other than the one signed, and a signature made for another connection", async () => {
    const { socket, connectionId } = await openTracked();

    const stale = await signed("POST", path(connectionId), JSON.stringify(forged), { signingDate: new Date(Date.now() - 10 * 60_000) });
    const swapped = await signed("POST", path(connectionId), JSON.stringify({ type: "pong" }), { sendBody: JSON.stringify(forged) });
    const retargeted = await signed("POST", path("another-connection="), JSON.stringify(forged), { sendPath: path(connectionId) });
    const fresh = await signed("POST", path(connectionId), JSON.stringify({ type: "hand-signed" }));

    expect(stale.status).toBe(403);
    expect(swapped.status).toBe(403);
    expect(retargeted.status).toBe(403);
    expect(fresh.status).toBe(200); // the same signing code, with a current date and the signed body, is accepted
    expect(await socket.next("hand-signed")).toMatchObject({ type: "hand-signed" });
    await expect(socket.next("chat.done", 300)).rejects.toThrow(/no 'chat.done'/);
    socket.close();
  });

  it("answers a signed call with a bad escape in the path with 400 bad_request_path", async () => {
    const response = await signed("GET", `${endpoint.pathname}/@connections/%ZZ`, "");

    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "bad_request_path" });
  });

  it("still serves the real management client: post, get, delete, and 410 once gone", async () => {
    const { socket, connectionId } = await openTracked();
    const management = client();

    await management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify({ type: "hello" })) }));
    const described = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    const closing = socket.closed;
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));

    expect(await socket.next("hello")).toMatchObject({ type: "hello" });
    expect(described.Identity?.SourceIp).toBeTruthy();
    expect((await closing).code).toBe(1000);
    await expect(management.send(new GetConnectionCommand({ ConnectionId: connectionId }))).rejects.toBeInstanceOf(GoneException);
  });

  it("refuses a body over 128 KiB with 413 PayloadTooLargeException", async () => {
    const { socket, connectionId } = await openTracked();

    const tooBig = client().send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(MAX_CONNECTIONS_BODY + 1, 0x61) }));

    await expect(tooBig).rejects.toBeInstanceOf(PayloadTooLargeException);
    socket.close();
  });

  it("refuses a 400 MB POST after a few MB, without holding it in memory", async () => {
    const { socket, connectionId } = await openTracked();
    const total = 400 * 1024 * 1024;
    // The header passes the cheap checks (our key id, a current date); the body is refused by its declared size.
    const now = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
    const headers = {
      "x-amz-date": now,
      authorization: `AWS4-HMAC-SHA256 Credential=${platform.connectionsCredentials.accessKeyId}/${now.slice(0, 8)}/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
    };
    const rssBefore = process.memoryUsage().rss;

    const result = await upload(`${endpoint.origin}${path(connectionId)}`, total, { headers });
    const unsigned = await upload(`${endpoint.origin}${path(connectionId)}`, total);
    const rssAfter = process.memoryUsage().rss;

    expect(result.status).toBe(413);
    expect(unsigned.status).toBe(403);
    expect(result.written).toBeLessThan(16 * 1024 * 1024);
    expect(unsigned.written).toBeLessThan(16 * 1024 * 1024);
    // Loose: the old endpoint buffered the whole body (about 400 MB more).
    expect(rssAfter - rssBefore).toBeLessThan(100 * 1024 * 1024);
    socket.close();
  });
});
