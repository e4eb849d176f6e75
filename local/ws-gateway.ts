import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { randomBytes, randomUUID } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";
import type { APIGatewayProxyResultV2 } from "aws-lambda";
import { wsRoutes } from "../functions/routes";
import { runtimePermissions } from "../functions/manifest.types";
import { loadHandler } from "./handlers";
import { invocationContext, type TimeoutOf, timeoutsOf } from "./invocation-context";
import { runAs } from "./permission-guard";

type WsHandler = (event: unknown, context: unknown) => Promise<APIGatewayProxyResultV2 | undefined>;

/**
 * What one connection may hold. API Gateway's frame limit is 128 KiB (bigger: close 1009; invalid
 * UTF-8 in a text frame: 1007, both from the `ws` library). Frames wait their turn per connection;
 * past maxQueuedFrames or maxQueuedBytes waiting, the client is flooding: close 1008 and drop
 * what waits. A client that does not read what we send gets cut past maxUnreadBytes.
 */
export const WS_LIMITS = {
  maxFrameBytes: 128 * 1024,
  maxQueuedFrames: 64,
  /** Counted in characters of the frames' text (base64 for binary frames). */
  maxQueuedBytes: 1024 * 1024,
  maxUnreadBytes: 4 * 1024 * 1024,
  /** After a flood close, how long the client gets to complete the closing handshake. */
  closeGraceMs: 2_000,
} as const;

interface LiveConnection {
  id: string;
  socket: WebSocket;
  connectedAt: number;
  lastActiveAt: number;
  sourceIp: string;
  userAgent: string;
  headers: Record<string, string>;
}

export interface WsGatewayOptions {
  /** Host and port clients use (`localhost:8084`). */
  domainName: string;
  /** Path of the socket and stage of the @connections endpoint: `ws` -> ws://host/ws, http://host/ws/@connections. */
  stage: string;
  /** Each route function's timeout (ms), for its invocations' contexts. */
  timeoutOf?: TimeoutOf;
}

/**
 * The local stand-in for API Gateway's WebSocket API: `$connect` (which may refuse the upgrade),
 * `$disconnect`, `$default` and custom route keys selected by `$request.body.action`, each invoking the
 * manifest's handler with an API-Gateway-shaped event; plus the `@connections` management endpoint
 * (POST/GET/DELETE), which the real ApiGatewayManagementApi client talks to.
 */
export function createWsGateway({ domainName, stage, timeoutOf = timeoutsOf() }: WsGatewayOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_LIMITS.maxFrameBytes });
  const live = new Map<string, LiveConnection>();
  const routes = new Map(wsRoutes.map((r) => [r.routeKey, r]));

  const context = (connection: Pick<LiveConnection, "id" | "connectedAt" | "sourceIp" | "userAgent">, routeKey: string, eventType: string) => {
    const now = Date.now();
    return {
      routeKey,
      eventType,
      extendedRequestId: randomUUID(),
      requestTime: new Date(now).toUTCString(),
      messageDirection: "IN",
      stage,
      connectedAt: connection.connectedAt,
      requestTimeEpoch: now,
      identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
      requestId: randomUUID(),
      domainName,
      connectionId: connection.id,
      apiId: "local",
    };
  };

  async function invoke(routeKey: string, event: unknown): Promise<{ statusCode: number; body?: string }> {
    const route = routes.get(routeKey);
    if (!route) return { statusCode: 200 };
    try {
      const handler = await loadHandler<WsHandler>(route.handler);
      const result = await runAs({ function: route.handler, permissions: runtimePermissions(route) }, () => handler(event, invocationContext(route.handler, timeoutOf(route))));
      if (result && typeof result === "object" && "statusCode" in result) {
        return { statusCode: result.statusCode ?? 200, ...(result.body ? { body: result.body } : {}) };
      }
      return { statusCode: 200 };
    } catch (error) {
      console.error(JSON.stringify({ level: "ERROR", message: "ws handler crashed", routeKey, error: String(error) }));
      return { statusCode: 500 };
    }
  }

  /** Route selection as API Gateway does with `$request.body.action`. */
  function selectRoute(data: string): string {
    try {
      const action = (JSON.parse(data) as { action?: unknown }).action;
      if (typeof action === "string" && routes.has(action) && !action.startsWith("$")) return action;
    } catch {
      // not JSON: $default
    }
    return "$default";
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(req.url ?? "/", `http://${domainName}`);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(",") : value;
    const query = Object.fromEntries(url.searchParams);
    const base = {
      id: randomBytes(10).toString("base64"), // API Gateway ids look like this, `=`, `+` and `/` included
      connectedAt: Date.now(),
      sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
      userAgent: headers["user-agent"] ?? "",
    };
    const result = await invoke("$connect", {
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      requestContext: context(base, "$connect", "CONNECT"),
      isBase64Encoded: false,
    });
    if (result.statusCode < 200 || result.statusCode >= 300) {
      const body = result.body ?? "";
      socket.end(
        `HTTP/1.1 ${result.statusCode} Refused\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection: LiveConnection = { ...base, socket: ws, lastActiveAt: Date.now(), headers };
      live.set(connection.id, connection);
      // Without this listener, a bad frame (invalid UTF-8, too big) would be an unhandled 'error' event
      // and take the process down; `ws` has already sent the close frame with the right code (1007, 1009).
      ws.on("error", (error: Error & { code?: string }) =>
        console.warn(JSON.stringify({ level: "WARN", message: "ws frame refused", connectionId: connection.id, code: error.code, error: error.message })),
      );
      // Answering pings is `ws`'s job; a client that sends pings but never reads the pongs would pile
      // them up in our send buffer.
      ws.on("ping", () => {
        if (ws.bufferedAmount > WS_LIMITS.maxUnreadBytes) ws.terminate();
      });

      // Frames of one connection are handled in order, one at a time, like API Gateway's per-connection
      // ordering; the backlog is bounded so a flooding client cannot grow our memory.
      const waiting: { text: string; isBinary: boolean }[] = [];
      let waitingBytes = 0;
      let running = false;
      let flooded = false;
      let disconnected = false;

      const runNext = async (): Promise<void> => {
        running = true;
        for (let frame = waiting.shift(); frame; frame = waiting.shift()) {
          waitingBytes -= frame.text.length;
          const routeKey = frame.isBinary ? "$default" : selectRoute(frame.text);
          await invoke(routeKey, {
            requestContext: { ...context(connection, routeKey, "MESSAGE"), messageId: randomBytes(6).toString("base64") },
            body: frame.text,
            isBase64Encoded: frame.isBinary,
          });
        }
        running = false;
        if (disconnected) await disconnect();
      };

      let closeInfo: { code: number; reason: string } | undefined;
      const disconnect = async () => {
        disconnected = false;
        await invoke("$disconnect", {
          headers,
          requestContext: {
            ...context(connection, "$disconnect", "DISCONNECT"),
            disconnectStatusCode: closeInfo?.code ?? 1006,
            disconnectReason: closeInfo?.reason ?? "",
          },
          isBase64Encoded: false,
        });
      };

      ws.on("message", (data, isBinary) => {
        if (flooded) return;
        connection.lastActiveAt = Date.now();
        const text = isBinary ? Buffer.from(data as Buffer).toString("base64") : data.toString();
        if (waiting.length >= WS_LIMITS.maxQueuedFrames || waitingBytes + text.length > WS_LIMITS.maxQueuedBytes) {
          flooded = true;
          waiting.length = 0;
          waitingBytes = 0;
          console.warn(JSON.stringify({ level: "WARN", message: "ws client flooding: closed", connectionId: connection.id }));
          ws.close(1008, "Too many frames waiting");
          setTimeout(() => ws.terminate(), WS_LIMITS.closeGraceMs).unref();
          return;
        }
        waiting.push({ text, isBinary });
        waitingBytes += text.length;
        if (!running) void runNext();
      });
      ws.on("close", (code, reason) => {
        live.delete(connection.id);
        closeInfo = { code, reason: reason.toString() };
        // Frames not started yet belong to a connection that is gone: drop them. `$disconnect` runs after
        // the frame in progress, if any, as API Gateway runs it after the connection's last message.
        waiting.length = 0;
        waitingBytes = 0;
        if (running) disconnected = true;
        else void disconnect();
      });
    });
  }

  /**
   * `{stage}/@connections/{id}`: POST sends, GET describes, DELETE closes. A closed id is 410
   * GoneException. The caller (local/connections-endpoint.ts) has authenticated the request and read
   * its bounded body.
   */
  async function management(method: string, connectionId: string, body: Buffer, res: ServerResponse): Promise<void> {
    const connection = live.get(connectionId);
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
      // The SDK maps a 410 to GoneException only when this header names it.
      res.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" });
      res.end(JSON.stringify({ message: null }));
      return;
    }
    if (method === "POST") {
      if (connection.socket.bufferedAmount > WS_LIMITS.maxUnreadBytes) {
        // The client stopped reading: cut it rather than buffer without end (the post finds it gone).
        connection.socket.terminate();
        res.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" });
        res.end(JSON.stringify({ message: null }));
        return;
      }
      await new Promise<void>((resolve, reject) =>
        connection.socket.send(body, { binary: false }, (error) => (error ? reject(error) : resolve())),
      );
      res.writeHead(200, { "content-type": "application/json" });
      res.end();
    } else if (method === "GET") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          // REST-JSON member names of GetConnection (jsonName traits), timestamps as date-time.
          connectedAt: new Date(connection.connectedAt).toISOString(),
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
          identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        }),
      );
    } else if (method === "DELETE") {
      connection.socket.close(1000, "Closed by the server");
      res.writeHead(204);
      res.end();
    } else {
      res.writeHead(405, { "content-type": "application/json", allow: "GET, POST, DELETE" });
      res.end(JSON.stringify({ message: "Method Not Allowed" }));
    }
  }

  return {
    upgrade,
    management,
    /** How many sockets are open (for the status line and tests). */
    size: () => live.size,
    /** The server side of every open socket: for the fan-out benchmark's bare `ws.send` baseline. */
    sockets: () => [...live.values()].map((c) => c.socket),
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of live.values()) connection.socket.terminate();
        wss.close(() => resolve());
      }),
  };
}
