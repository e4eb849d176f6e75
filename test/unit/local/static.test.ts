import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGuardedServer, requestTarget } from "../../../local/http-guards";
import { createStaticSite } from "../../../local/static";
import { rawRequest } from "../../support/raw-http";

/** The dashboard server: only files under its root, GET/HEAD only, bad escapes a plain 400. */
let server: Server;
let port: number;

beforeAll(async () => {
  const parent = mkdtempSync(join(tmpdir(), "agentorg-static-"));
  const root = join(parent, "dist");
  mkdirSync(join(root, "assets"), { recursive: true });
  writeFileSync(join(root, "index.html"), "<!doctype html><title>dashboard</title>");
  writeFileSync(join(root, "assets", "app.js"), "console.log('app')");
  // A sibling whose name starts with the root's: a plain prefix check would let it through.
  mkdirSync(join(parent, "dist-secret"));
  writeFileSync(join(parent, "dist-secret", "secret.txt"), "TOP SECRET");
  writeFileSync(join(parent, "secret.txt"), "TOP SECRET");
  const site = createStaticSite(root);
  server = createGuardedServer((req, res) => site(req, res, requestTarget(req.url)?.path ?? "/"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => {
  server?.closeAllConnections();
  server?.close();
});

describe("static dashboard site", () => {
  it("serves files and falls back to index.html for client-side routes", async () => {
    const asset = await rawRequest(port, "GET /assets/app.js HTTP/1.1");
    const route = await rawRequest(port, "GET /agents/123 HTTP/1.1");

    expect(asset.status).toBe(200);
    expect(asset.headers["cache-control"]).toMatch(/immutable/);
    expect(route.status).toBe(200);
    expect(route.body).toContain("dashboard");
  });

  it.each(["/..%2Fdist-secret%2Fsecret.txt", "/..%2F..%2Fdist-secret%2Fsecret.txt", "/..%2Fsecret.txt", "/%2e%2e/secret.txt", "/assets/..%2F..%2F..%2Fsecret.txt"])(
    "never serves a file outside its root: %s",
    async (path) => {
      const response = await rawRequest(port, `GET ${path} HTTP/1.1`);

      expect(response.body).not.toContain("TOP SECRET");
    },
  );

  it("answers bad escapes and NUL with a plain 400, other methods with 405", async () => {
    const bad = await rawRequest(port, "GET /%ZZ HTTP/1.1");
    const nul = await rawRequest(port, "GET /%00 HTTP/1.1");
    const post = await rawRequest(port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

    expect(bad.status).toBe(400);
    expect(bad.headers["content-type"]).toMatch(/^text\/plain/);
    expect(nul.status).toBe(400);
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });
});
