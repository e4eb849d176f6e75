import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";

/**
 * Limits of every local listener (public gateway and the @connections endpoint). Node's defaults let a
 * client that trickles its headers hold a socket for a minute and its body for five; these are tighter,
 * but far above what a real client on this machine needs.
 */
export const SERVER_LIMITS = {
  /** Whole header block, request line included (Node answers 431 past it). */
  maxHeaderSize: 16 * 1024,
  /** A client has this long to send its headers (Node answers 408 and closes). */
  headersTimeoutMs: 10_000,
  /** ...and this long to send the whole request, body included (the response may take longer: SSE). */
  requestTimeoutMs: 30_000,
  /** An idle keep-alive socket is closed after this. */
  keepAliveTimeoutMs: 5_000,
  /** How often Node checks the two timeouts above. */
  connectionsCheckingIntervalMs: 1_000,
} as const;

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void | Promise<void>;

const log = (message: string, error: unknown, extra: Record<string, unknown> = {}) =>
  console.error(JSON.stringify({ level: "ERROR", message, error: error instanceof Error ? error.message : String(error), ...extra }));

/**
 * An HTTP server with SERVER_LIMITS whose listeners cannot take the process down: a listener that
 * throws (synchronously or by rejecting) costs its own request a plain 500, or its upgrade socket a
 * 500 and a close, and is logged; every other request carries on.
 */
export function createGuardedServer(onRequest: RequestListener, onUpgrade?: UpgradeListener): Server {
  const server = createServer(
    {
      maxHeaderSize: SERVER_LIMITS.maxHeaderSize,
      headersTimeout: SERVER_LIMITS.headersTimeoutMs,
      requestTimeout: SERVER_LIMITS.requestTimeoutMs,
      keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
      connectionsCheckingInterval: SERVER_LIMITS.connectionsCheckingIntervalMs,
    },
    (req, res) => {
      // A write after the client went away must not become an unhandled 'error' event.
      res.on("error", (error) => log("response error", error, { url: req.url?.slice(0, 200) }));
      const fail = (error: unknown) => {
        log("local gateway error", error, { url: req.url?.slice(0, 200) });
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(500, { "content-type": "application/json", connection: "close" });
        res.end(JSON.stringify({ message: "Internal Server Error" }));
      };
      try {
        const handled = onRequest(req, res);
        if (handled) handled.catch(fail);
      } catch (error) {
        fail(error);
      }
    },
  );
  // Once listening, a server error (accept failing with EMFILE when file descriptors run out) must not
  // be an unhandled 'error' event; Node keeps accepting when descriptors free up again. Before that,
  // listen errors (a port in use) go to whoever called listen().
  server.once("listening", () => server.on("error", (error) => log("server error", error)));
  if (onUpgrade) {
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Node removes its own socket error listener before 'upgrade': until the WebSocket library adds
      // one, a reset from the client would be an unhandled 'error' event.
      socket.on("error", () => socket.destroy());
      const fail = (error: unknown) => {
        log("local upgrade error", error, { url: req.url?.slice(0, 200) });
        if (socket.writable) socket.end("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        socket.destroy();
      };
      try {
        const handled = onUpgrade(req, socket, head);
        if (handled) handled.catch(fail);
      } catch (error) {
        fail(error);
      }
    });
  }
  return server;
}

/** The path and query of a request target (origin or absolute form); undefined when it is neither. */
export function requestTarget(raw: string | undefined): { path: string; search: string } | undefined {
  const target = raw || "/";
  if (target.startsWith("/")) {
    const q = target.indexOf("?");
    return q < 0 ? { path: target, search: "" } : { path: target.slice(0, q), search: target.slice(q) };
  }
  try {
    const url = new URL(target);
    if (url.protocol === "http:" || url.protocol === "https:") return { path: url.pathname, search: url.search };
  } catch {
    // not a URL: refused below
  }
  return undefined;
}

/** `decodeURIComponent`, or undefined for a malformed escape (`%ZZ`, a cut or invalid UTF-8 sequence). */
export function decodePath(path: string): string | undefined {
  try {
    return decodeURIComponent(path);
  } catch {
    return undefined;
  }
}

/** Whether the request announces a body (a length above 0, or chunked). */
export const hasBody = (req: IncomingMessage): boolean =>
  req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] !== undefined && req.headers["content-length"] !== "0");

/**
 * Reads a body of at most `limit` bytes. A declared length over the limit is refused before a byte is
 * read; a chunked body stops being read at the limit. Never holds more than `limit` bytes. After
 * "too_large", answer with `connection: close` (refuse()) so Node does not drain the rest.
 */
export function readBoundedBody(req: IncomingMessage, limit: number): Promise<Buffer | "too_large"> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve("too_large");
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) {
        chunks.push(chunk);
        return;
      }
      req.pause();
      req.off("data", onData);
      chunks.length = 0;
      resolve("too_large");
    };
    req.on("data", onData);
    req.once("end", () => resolve(Buffer.concat(chunks)));
    req.once("error", reject);
  });
}

/**
 * Answers and closes the connection, for a request whose body is not (fully) read: without
 * `connection: close` Node would read and discard the rest of it to reuse the socket, however big.
 */
export function refuse(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.shouldKeepAlive = false;
  res.writeHead(status, { ...headers, "content-length": String(Buffer.byteLength(body)), connection: "close" });
  res.end(body);
}
