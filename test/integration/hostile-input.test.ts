import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import WebSocket from "ws";
import type { Platform } from "../../local/platform";
import { GATEWAY_MAX_BODY } from "../../local/http-gateway";
import { WS_LIMITS } from "../../local/ws-gateway";
import { call, createTenant, eventually, startTestPlatform } from "../support/platform";
import { rawRequest, upload } from "../support/raw-http";
import { TestSocket } from "../support/ws-client";

/**
 * Issue 10, defects 1 and 2 and bounded bodies: no URL, method, body or WebSocket frame from anyone
 * can take the local platform down or make it hold unbounded memory; each gets its own 4xx (or close
 * code) and everyone else carries on.
 */
let platform: Platform;
let port: number;
let tenantA: Awaited<ReturnType<typeof createTenant>>;
let tenantB: Awaited<ReturnType<typeof createTenant>>;
let db: DynamoDBDocumentClient;

/**
 * Errors nobody handled while a test ran. In `npm start` each one kills the process; vitest catches
 * them instead, so the tests check for them explicitly.
 */
const uncaught: string[] = [];
const record = (error: unknown) => uncaught.push(String(error));
process.on("uncaughtException", record);
process.on("unhandledRejection", record);
afterEach(() => {
  const seen = uncaught.splice(0);
  expect(seen, "errors that would have crashed the platform").toEqual([]);
});

beforeAll(async () => {
  platform = await startTestPlatform();
  port = Number(new URL(platform.url).port);
  tenantA = await createTenant(platform, { name: "Tenant A" });
  tenantB = await createTenant(platform, { name: "Tenant B" });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  process.off("uncaughtException", record);
  process.off("unhandledRejection", record);
  await platform?.stop();
});

/** The platform still serves an ordinary request (it would refuse the connection if the process had died). */
async function expectAlive() {
  const health = await call(platform, "/health");
  expect(health.status).toBe(200);
}

/** A raw WebSocket for a tenant (to send frames a polite client would not). */
function rawSocket(key: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(platform.wsUrl, { headers: { authorization: `Bearer ${key}` } });
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
}

const closed = (socket: WebSocket) =>
  new Promise<{ code: number; reason: string }>((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));

/** Connection items of an organization: `$disconnect` removes a socket's item. */
async function connectionIds(orgId: string): Promise<string[]> {
  const { Items } = await db.send(
    new QueryCommand({
      TableName: platform.tableName,
      KeyConditionExpression: "pk = :pk AND begins_with(sk, :c)",
      ExpressionAttributeValues: { ":pk": `T#${orgId}`, ":c": "CONN#" },
    }),
  );
  return (Items ?? []).map((item) => item.connectionId as string);
}

/** Opens a raw socket and returns it with its connection id (the one item that was not there before). */
async function openTracked(tenant: typeof tenantA) {
  const before = new Set(await connectionIds(tenant.org.id));
  const socket = await rawSocket(tenant.key);
  const connectionId = await eventually(async () => (await connectionIds(tenant.org.id)).find((id) => !before.has(id)), 5_000, "connection item");
  return { socket, connectionId };
}

describe("hostile URLs and methods", () => {
  it("answers a bad percent-escape on a dashboard path with a plain 400", async () => {
    const response = await rawRequest(port, "GET /%ZZ HTTP/1.1");

    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toMatch(/^text\/plain/);
    await expectAlive();
  });

  it.each(["/api/v1/%ZZ", "/api/v1/tickets/%E0%A4%A", "/api/v1/organizations/%C0%AF"])("answers %s with 400 problem+json bad_request_path", async (path) => {
    const response = await rawRequest(port, `GET ${path} HTTP/1.1`);

    expect(response.status).toBe(400);
    expect(response.headers["content-type"]).toBe("application/problem+json");
    expect(JSON.parse(response.body)).toMatchObject({ status: 400, code: "bad_request_path" });
    await expectAlive();
  });

  it("does not serve @connections on the public port, escaped or not", async () => {
    for (const path of ["/ws/@connections/%ZZ", "/ws/@connections/abc%3D"]) {
      const response = await rawRequest(port, `GET ${path} HTTP/1.1`);
      expect(response.status).toBe(404);
    }
    await expectAlive();
  });

  it("survives request targets that are not plain paths", async () => {
    const targets = ["//a:99999", "//[", "http://other.example/api/v1/health", "*", "/\\..\\..\\etc/passwd", "/%00"];
    for (const target of targets) {
      const response = await rawRequest(port, `GET ${target} HTTP/1.1`);
      expect(response.status, target).toBeGreaterThanOrEqual(200);
      expect(response.status, target).toBeLessThan(500);
      expect(response.body, target).not.toMatch(/root:|at .*\.ts:\d+/);
    }
    await expectAlive();
  });

  it("refuses very long paths and header blocks (431) and keeps answering", async () => {
    const long = await rawRequest(port, `GET /api/v1/${"a".repeat(64 * 1024)} HTTP/1.1`);
    const headers = await rawRequest(port, `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${"b".repeat(32 * 1024)}\r\nConnection: close\r\n\r\n`);
    const longish = await rawRequest(port, `GET /${"%41".repeat(4000)} HTTP/1.1`);

    expect(long.status).toBe(431);
    expect(headers.status).toBe(431);
    expect(longish.status).toBe(200); // a client-side route: the dashboard's index.html
    await expectAlive();
  });

  it("answers odd methods with a 4xx", async () => {
    const unknown = await rawRequest(port, "FOO /api/v1/health HTTP/1.1");
    const dashboard = await rawRequest(port, "DELETE / HTTP/1.1");
    const api = await rawRequest(port, "PROPFIND /api/v1/organizations HTTP/1.1");

    expect(unknown.status).toBe(400);
    expect(dashboard.status).toBe(405);
    expect(dashboard.headers.allow).toBe("GET, HEAD");
    expect(api.status).toBeGreaterThanOrEqual(400);
    expect(api.status).toBeLessThan(500);
    await expectAlive();
  });

  it("survives a client that resets while its upgrade is being authorized", async () => {
    // A well-formed key of no organization: $connect looks it up in the table, then refuses. The
    // client is gone by then, so the refusal is written to a reset socket.
    const { connect } = await import("node:net");
    for (let i = 0; i < 20; i++) {
      const socket = connect(port, "127.0.0.1");
      socket.on("error", () => undefined);
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      socket.write(
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
          `Authorization: Bearer ao_01J00000000000000000000000_01J00000000000000000000000_${"x".repeat(40)}\r\n\r\n`,
      );
      await new Promise((r) => setTimeout(r, i % 5));
      socket.resetAndDestroy();
    }
    await new Promise((r) => setTimeout(r, 200));
    await expectAlive();
  });
});

describe("bounded request bodies", () => {
  it("refuses a 50 MB POST to the HTTP API with 413 without reading it", async () => {
    const total = 50 * 1024 * 1024;

    const result = await upload(`${platform.apiUrl}/organizations`, total, { headers: { authorization: `Bearer ${platform.operatorKey}` } });

    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({ status: 413, code: "payload_too_large" });
    // What the client could hand over is what sat in socket buffers when the answer came: a few MB.
    expect(result.written).toBeLessThan(16 * 1024 * 1024);
    await expectAlive();
  });

  it("stops reading a chunked body at the gateway's limit", async () => {
    const total = 50 * 1024 * 1024;

    const result = await upload(`${platform.apiUrl}/organizations`, total, { chunked: true, headers: { authorization: `Bearer ${platform.operatorKey}` } });

    // Either the 413 arrives, or the connection is cut while the client is still writing (it may see
    // EPIPE before it reads the answer); in both cases the gateway read little past its limit.
    if (result.status !== 0) expect(result.status).toBe(413);
    expect(result.written).toBeLessThan(GATEWAY_MAX_BODY + 16 * 1024 * 1024);
    await expectAlive();
  });

  it("does not read a body sent to the dashboard", async () => {
    const result = await upload(`${platform.url}/`, 50 * 1024 * 1024, { method: "POST" });

    expect(result.status).toBe(405);
    expect(result.written).toBeLessThan(16 * 1024 * 1024);
    await expectAlive();
  });
});

describe("hostile WebSocket frames", () => {
  it("closes a socket that sends invalid UTF-8 with 1007, runs $disconnect, and serves other tenants", async () => {
    const { socket, connectionId } = await openTracked(tenantA);
    const other = await TestSocket.open(platform.wsUrl, { authorization: `Bearer ${tenantB.key}` });
    const close = closed(socket);

    // A text frame whose payload is not UTF-8: `ws` sends it as given (no check on the sending side).
    socket.send(Buffer.from([0x7b, 0xff, 0x7d]), { binary: false });

    expect((await close).code).toBe(1007);
    await eventually(async () => ((await connectionIds(tenantA.org.id)).includes(connectionId) ? undefined : true), 5_000, "$disconnect");
    other.send({ action: "ping", id: "after-1007" });
    expect(await other.next("pong")).toMatchObject({ id: "after-1007" });
    other.close();
    await expectAlive();
  });

  it("closes a socket that sends a 200 KiB frame with 1009, runs $disconnect, and serves other tenants", async () => {
    const { socket, connectionId } = await openTracked(tenantA);
    const other = await TestSocket.open(platform.wsUrl, { authorization: `Bearer ${tenantB.key}` });
    const close = closed(socket);

    socket.send(JSON.stringify({ action: "ping", pad: "x".repeat(200 * 1024) }));

    expect((await close).code).toBe(1009);
    await eventually(async () => ((await connectionIds(tenantA.org.id)).includes(connectionId) ? undefined : true), 5_000, "$disconnect");
    other.send({ action: "ping", id: "after-1009" });
    expect(await other.next("pong")).toMatchObject({ id: "after-1009" });
    other.close();
    await expectAlive();
  });

  it("closes a flooding socket with 1008 once its backlog is full, drops the rest, and serves other tenants", async () => {
    const { socket, connectionId } = await openTracked(tenantA);
    const other = await TestSocket.open(platform.wsUrl, { authorization: `Bearer ${tenantB.key}` });
    let pongs = 0;
    socket.on("message", () => pongs++);
    const close = closed(socket);
    const flood = 1_000;

    // Written in one go: far more frames than the gateway will queue for one connection.
    for (let i = 0; i < flood; i++) socket.send(JSON.stringify({ action: "ping", id: `f${i}` }));

    expect((await close).code).toBe(1008);
    await eventually(async () => ((await connectionIds(tenantA.org.id)).includes(connectionId) ? undefined : true), 5_000, "$disconnect");
    // At most the frame in progress and the bounded backlog were ever handled.
    expect(pongs).toBeLessThanOrEqual(WS_LIMITS.maxQueuedFrames + 1);
    other.send({ action: "ping", id: "after-flood" });
    expect(await other.next("pong")).toMatchObject({ id: "after-flood" });
    other.close();
  });

  it("still handles a burst within the backlog, in order", async () => {
    const socket = await TestSocket.open(platform.wsUrl, { authorization: `Bearer ${tenantA.key}` });
    const burst = Math.min(20, WS_LIMITS.maxQueuedFrames);

    for (let i = 0; i < burst; i++) socket.send({ action: "ping", id: `b${i}` });

    for (let i = 0; i < burst; i++) expect(await socket.next("pong")).toMatchObject({ id: `b${i}` });
    socket.close();
  });
});
