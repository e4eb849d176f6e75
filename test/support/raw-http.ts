import { request } from "node:http";
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends bytes exactly as given (a request line fetch would normalize or refuse: `/%ZZ`, `//a:99999`,
 * odd methods) and parses the answer. Resolves with status 0 if the server closed without answering.
 */
export function rawRequest(port: number, head: string, host = "127.0.0.1"): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => {
      const text = Buffer.concat(chunks).toString("latin1");
      const [headText = "", ...rest] = text.split("\r\n\r\n");
      const [statusLine = "", ...headerLines] = headText.split("\r\n");
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.\d (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: rest.join("\r\n\r\n") });
    });
    socket.write(head.includes("\r\n\r\n") ? head : `${head}\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  });
}

export interface UploadResult {
  /** The status of the answer, or 0 when the connection broke before one arrived. */
  status: number;
  body: string;
  /** Body bytes the server let us hand to the socket before it answered or cut us off. */
  written: number;
  error?: string;
}

/**
 * Streams `total` bytes of body (with backpressure, as a real client does), declared by content-length
 * or chunked, and stops writing as soon as the server answers: `written` tells how much the server
 * took (its reads plus socket buffers) before refusing.
 */
export function upload(
  url: string,
  total: number,
  options: { chunked?: boolean; method?: string; headers?: Record<string, string> } = {},
): Promise<UploadResult> {
  return new Promise((resolve) => {
    const target = new URL(url);
    let written = 0;
    let answered = false;
    let settled = false;
    const finish = (result: Omit<UploadResult, "written">) => {
      if (settled) return;
      settled = true;
      resolve({ ...result, written });
    };
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: options.method ?? "POST",
        headers: { "content-type": "application/json", ...options.headers, ...(options.chunked ? {} : { "content-length": String(total) }) },
      },
      (res) => {
        answered = true;
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          finish({ status: res.statusCode ?? 0, body });
          req.destroy();
        });
        res.on("error", () => finish({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on("error", (error) => finish({ status: 0, body: "", error: error.message }));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const pump = () => {
      while (!answered && !settled && written < total) {
        const size = Math.min(chunk.length, total - written);
        written += size;
        if (!req.write(size === chunk.length ? chunk : chunk.subarray(0, size))) {
          req.once("drain", pump);
          return;
        }
      }
      if (!answered && !settled) req.end();
    };
    pump();
  });
}
