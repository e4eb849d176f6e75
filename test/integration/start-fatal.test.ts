import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/**
 * Issue 10, defect 1 (second half): a bug that escapes every guard must not leave DynamoDB Local
 * running. `npm start` logs one line, stops the platform and exits non-zero, so the next start finds
 * its port free.
 */
const root = resolve(import.meta.dirname, "../..");
let child: ChildProcess | undefined;

afterEach(() => {
  // The child runs in its own process group with DynamoDB Local: if the test failed and left Java
  // running, end that group (only what this test started).
  if (child?.pid) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  child = undefined;
});

const portOpen = (port: number) =>
  new Promise<boolean>((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), done(true)));
    socket.once("error", () => done(false));
  });

async function runWithFault(fault: "exception" | "rejection") {
  const dataDir = mkdtempSync(join(tmpdir(), "agentorg-fatal-"));
  child = spawn(join(root, "node_modules/.bin/tsx"), ["test/support/start-with-fault.ts"], {
    cwd: root,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FAULT: fault, PORT: "0", AGENTORG_DYNAMODB_PORT: "0", AGENTORG_CONNECTIONS_PORT: "0", AGENTORG_DATA_DIR: dataDir },
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child!.once("exit", (exitCode) => done(exitCode)));
  const dynamoPort = Number(/DynamoDB\s+http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1]);
  return { code, stdout, stderr, dynamoPort };
}

describe("npm start after a bug no guard caught", () => {
  it.each(["exception", "rejection"] as const)("an unhandled %s: one line, DynamoDB Local stopped, exit code non-zero", async (fault) => {
    const { code, stderr, dynamoPort } = await runWithFault(fault);

    expect(dynamoPort).toBeGreaterThan(0); // it did start
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const lines = stderr.trim().split("\n").filter((line) => line.startsWith("agentorg:"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(fault === "exception" ? /uncaught exception, stopping: injected fault/ : /unhandled rejection, stopping: injected rejection/);
    expect(await portOpen(dynamoPort)).toBe(false);
  }, 90_000);
});
