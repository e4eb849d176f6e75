import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { randomBytes, randomUUID } from "node:crypto";
import { WebSocketServer, type WebSocket } from "ws";
import type { APIGatewayProxyResultV2 } from "aws-lambda";
import { wsRoutes } from "../functions/routes";
import { loadHandler } from "./handlers";

type WsHandler = (event: unknown) => Promise<APIGatewayProxyResultV2 | undefined>;

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
}

/**
 * The local stand-in for API Gateway's WebSocket API: `$connect` (which may refuse the upgrade),
 * `$disconnect`, `$default` and custom route keys selected by `$request.body.action`, each invoking the
 * manifest's handler with an API-Gateway-shaped event; plus the `@connections` management endpoint
 * (POST/GET/DELETE), which the real ApiGatewayManagementApi client talks to.
 */
export function createWsGateway({ domainName, stage }: WsGatewayOptions) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 128 * 1024 });
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
      const result = await (await loadHandler<WsHandler>(route.handler))(event);
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
      // Frames of one connection are handled in order, one at a time, like API Gateway's per-connection ordering.
      let queue = Promise.resolve();
      ws.on("message", (data, isBinary) => {
        connection.lastActiveAt = Date.now();
        const text = isBinary ? Buffer.from(data as Buffer).toString("base64") : data.toString();
        queue = queue.then(async () => {
          const routeKey = isBinary ? "$default" : selectRoute(text);
          await invoke(routeKey, {
            requestContext: { ...context(connection, routeKey, "MESSAGE"), messageId: randomBytes(6).toString("base64") },
            body: text,
            isBase64Encoded: isBinary,
          });
        });
      });
      ws.on("close", (code, reason) => {
        live.delete(connection.id);
        queue = queue.then(async () => {
          await invoke("$disconnect", {
            headers,
            requestContext: {
              ...context(connection, "$disconnect", "DISCONNECT"),
              disconnectStatusCode: code,
              disconnectReason: reason.toString(),
            },
            isBase64Encoded: false,
          });
        });
      });
    });
  }

  /** `{stage}/@connections/{id}`: POST sends, GET describes, DELETE closes. A closed id is 410 GoneException. */
  async function management(req: IncomingMessage, res: ServerResponse, connectionId: string): Promise<void> {
    const connection = live.get(connectionId);
    const method = req.method ?? "GET";
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (!connection || connection.socket.readyState !== connection.socket.OPEN) {
      // The SDK maps a 410 to GoneException only when this header names it.
      res.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" });
      res.end(JSON.stringify({ message: null }));
      return;
    }
    if (method === "POST") {
      const data = Buffer.concat(chunks);
      await new Promise<void>((resolve, reject) =>
        connection.socket.send(data, { binary: false }, (error) => (error ? reject(error) : resolve())),
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
