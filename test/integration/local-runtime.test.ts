import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StartupError } from "../../local/errors";
import { call, startTestPlatform } from "../support/platform";

describe("local runtime", () => {
  it("keeps data and the generated operator key across a restart", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "agentorg-data-"));
    const first = await startTestPlatform({ dataDir });
    const created = await call(first, "/organizations", { method: "POST", key: first.operatorKey, body: { name: "Survivor" } });
    const firstKey = first.operatorKey;
    await first.stop();

    const second = await startTestPlatform({ dataDir });
    const read = await call(second, `/organizations/${created.body.id}`, { key: second.operatorKey });
    await second.stop();

    expect(first.operatorKeyGenerated).toBe(true);
    expect(second.operatorKeyGenerated).toBe(false);
    expect(second.operatorKey).toBe(firstKey);
    expect(readFileSync(join(dataDir, "operator-key"), "utf8").trim()).toBe(firstKey);
    expect(second.tableCreated).toBe(false);
    expect(read.status).toBe(200);
    expect(read.body.name).toBe("Survivor");
  });

  it("fails with one clear line when the port is taken", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;

    const start = startTestPlatform({ port });

    await expect(start).rejects.toBeInstanceOf(StartupError);
    await expect(start).rejects.toThrow(`Port ${port} (agentorg HTTP) is already in use`);
    blocker.close();
  });

  it("serves the dashboard and the API docs page on the same port", async () => {
    const platform = await startTestPlatform();
    const dashboard = await fetch(`${platform.url}/`);
    const openapi = await call(platform, "/openapi.json");
    await platform.stop();

    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get("content-type")).toMatch(/text\/(html|plain)/);
    expect(openapi.status).toBe(200);
    expect(openapi.body.openapi).toBe("3.1.0");
  });
});
