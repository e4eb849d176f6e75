import { createReadStream, existsSync, statSync } from "node:fs";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";
import { decodePath } from "./http-guards";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/**
 * Serves the built dashboard (web/dist) the way the S3/CloudFront site does: files by path, `/x/` to
 * `/x/index.html`, and unknown paths to `/index.html` (client-side routes). GET and HEAD only; a path
 * that does not percent-decode is a plain 400; nothing outside the root is ever served.
 */
export function createStaticSite(root: string) {
  const base = resolve(root);
  const inside = (file: string) => file === base || file.startsWith(base + sep);
  const plain = (res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers });
    res.end(text);
  };
  /** `rawPath`: the request's path, still percent-encoded (the query already cut off). */
  return function serve(req: IncomingMessage, res: ServerResponse, rawPath: string): void {
    if (req.method !== "GET" && req.method !== "HEAD") return plain(res, 405, "Method Not Allowed", { allow: "GET, HEAD" });
    const path = decodePath(rawPath);
    if (path === undefined || path.includes("\0")) return plain(res, 400, "Bad Request: the path does not decode (bad percent-escape or NUL).");
    let file = normalize(join(base, path));
    if (!inside(file)) file = join(base, "index.html");
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) file = join(base, "index.html");
    if (!existsSync(file)) return plain(res, 404, "The dashboard is not built: run `npm run build:web` (npm start does it).");
    const immutable = file.startsWith(join(base, "assets") + sep);
    const stream = createReadStream(file);
    // Opened after the checks above: a file removed meanwhile (a rebuild) must not be an unhandled error.
    stream.once("error", () => {
      if (!res.headersSent) plain(res, 404, "Not Found");
      else res.destroy();
    });
    stream.once("open", () => {
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": immutable ? "public, max-age=31536000, immutable" : "no-cache",
      });
      stream.pipe(res);
    });
  };
}
