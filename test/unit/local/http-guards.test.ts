import { afterEach, describe, expect, it } from "vitest";
import type { Server } from "node:http";
import { createGuardedServer, decodePath, requestTarget } from "../../../local/http-guards";
import { rawRequest } from "../../support/raw-http";

/** The last-resort guard around every local listener: a bug costs one request, never the process. */
let server: Server | undefined;
const uncaught: unknown[] = [];
const record = (error: unknown) => uncaught.push(error);

afterEach(() => {
  process.off("uncaughtException", record);
  server?.closeAllConnections();
  server?.close();
  server = undefined;
});

async function listen(s: Server): Promise<number> {
  server = s;
  process.on("uncaughtException", record);
  uncaught.length = 0;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return (s.address() as { port: number }).port;
}

describe("guarded server", () => {
  it("turns a listener's synchronous throw and its rejection into a 500 for that request only", async () => {
    const port = await listen(
      createGuardedServer((req, res) => {
        if (req.url === "/throw") throw new Error("sync bug");
        if (req.url === "/reject") return Promise.reject(new Error("async bug"));
        res.end("ok");
      }),
    );

    const thrown = await rawRequest(port, "GET /throw HTTP/1.1");
    const rejected = await rawRequest(port, "GET /reject HTTP/1.1");
    const fine = await rawRequest(port, "GET /fine HTTP/1.1");

    expect(thrown.status).toBe(500);
    expect(rejected.status).toBe(500);
    expect(thrown.body + rejected.body).not.toMatch(/bug|at .*\.ts/);
    expect(fine.status).toBe(200);
    expect(uncaught).toEqual([]);
  });

  it("answers an upgrade whose listener throws with 500 and a close", async () => {
    const port = await listen(
      createGuardedServer(
        (_req, res) => void res.end("ok"),
        () => {
          throw new Error("upgrade bug");
        },
      ),
    );

    const upgrade = await rawRequest(port, "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
    const fine = await rawRequest(port, "GET / HTTP/1.1");

    expect(upgrade.status).toBe(500);
    expect(fine.status).toBe(200);
    expect(uncaught).toEqual([]);
  });

  it("logs a server error after listening instead of crashing", async () => {
    const port = await listen(createGuardedServer((_req, res) => void res.end("ok")));

    // Stand-in for accept() failing with EMFILE: exhausting this process's descriptors would take
    // the test runner down with it, so the error is emitted as Node would emit it.
    server!.emit("error", Object.assign(new Error("accept EMFILE"), { code: "EMFILE" }));

    expect((await rawRequest(port, "GET / HTTP/1.1")).status).toBe(200);
  });
});

describe("request targets and paths", () => {
  it("splits origin-form and absolute-form targets, refuses the rest", () => {
    expect(requestTarget("/a/b?x=1")).toEqual({ path: "/a/b", search: "?x=1" });
    expect(requestTarget("//a:99999")).toEqual({ path: "//a:99999", search: "" });
    expect(requestTarget("http://h/api/v1/health?q")).toEqual({ path: "/api/v1/health", search: "?q" });
    expect(requestTarget("*")).toBeUndefined();
    expect(requestTarget("ftp://h/x")).toBeUndefined();
  });

  it("decodes valid escapes and reports bad ones", () => {
    expect(decodePath("/a%20b")).toBe("/a b");
    expect(decodePath("/%ZZ")).toBeUndefined();
    expect(decodePath("/%E0%A4%A")).toBeUndefined();
  });
});
