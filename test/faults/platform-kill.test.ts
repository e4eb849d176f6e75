import { afterAll, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { allTicketIds, freePort, health, isAlive, ticketBurst, ticketInsertsAudited, verifyLog, waitFor } from "../support/faults";

/*
 * Fault: the whole platform (a child process running local/start.ts, with its own ports and data
 * folder) is killed with SIGKILL in the middle of a burst of ticket creation, then started again.
 *
 * Invariant: nothing acknowledged is lost, doubled or left out of the audit log.
 * - the DynamoDB Local the killed run left behind (an orphan holding the port and the database) is
 *   found through the pid file and stopped by the next start, which then starts normally;
 * - every acknowledged (201) ticket is present exactly once;
 * - every one has exactly one audit entry (within two minutes of the restart), the chain is valid,
 *   and its coverage complete.
 */

const root = join(import.meta.dirname, "../..");
const dataDir = mkdtempSync(join(tmpdir(), "agentorg-fault-platform-"));
const operatorKey = `op_fault_${"0123456789abcdef".repeat(2)}`;
const children: ChildProcess[] = [];
let ports: { http: number; dynamodb: number };

const api = () => ({ apiUrl: `http://localhost:${ports.http}/api/v1` });
const pidFile = join(dataDir, "dynamodb-local.pid");
const dynamoPid = () => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : null);

/** `npm start` as a new user runs it (minus the dashboard build), as one Node process: SIGKILL reaches the platform itself. */
function startPlatformProcess(): { child: ChildProcess; output: () => string } {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(ports.http),
    AGENTORG_DYNAMODB_PORT: String(ports.dynamodb),
    AGENTORG_DATA_DIR: dataDir,
    AGENTORG_OPERATOR_KEY: operatorKey,
    POWERTOOLS_LOG_LEVEL: "WARN",
  };
  // What a platform in this test process may have put there is not the child's setting.
  for (const name of ["TABLE_NAME", "DYNAMODB_ENDPOINT", "AGENTORG_AUDIT_SIGNING_KEY", "AGENTORG_WS_ENDPOINT"]) delete env[name];
  const child = spawn(process.execPath, ["--import", "tsx", "local/start.ts"], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  return { child, output: () => output };
}

async function waitUntilServing(started: { child: ChildProcess; output: () => string }) {
  await waitFor("the platform to answer /health with 200", async () => {
    if (started.child.exitCode !== null) throw new Error(`the platform exited (${started.child.exitCode}): ${started.output()}`);
    return (await health(api())).status === 200 ? true : undefined;
  }, 120_000, 250);
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once("exit", () => resolve()));
}

async function createTenant(): Promise<string> {
  const headers = { authorization: `Bearer ${operatorKey}`, "content-type": "application/json" };
  const org = await (await fetch(`${api().apiUrl}/organizations`, { method: "POST", headers, body: JSON.stringify({ name: "Killed mid-burst", tier: "enterprise" }) })).json();
  const key = await (await fetch(`${api().apiUrl}/organizations/${org.id}/api-keys`, { method: "POST", headers, body: JSON.stringify({ name: "fault" }) })).json();
  return key.secret as string;
}

afterAll(async () => {
  // Stop what this test started, by pid: the platform processes, and a DynamoDB Local a failure left behind.
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await Promise.race([exited(child), new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }
  const orphan = dynamoPid();
  if (orphan && isAlive(orphan)) process.kill(orphan, "SIGKILL");
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the whole platform killed with -9 mid-burst", () => {
  it("cleans up the orphaned DynamoDB Local on restart and keeps every acknowledged write, audited once", async () => {
    ports = { http: await freePort(), dynamodb: await freePort() };
    const first = startPlatformProcess();
    await waitUntilServing(first);
    const key = await createTenant();
    const burst = ticketBurst(api, key);
    await waitFor("15 acknowledged tickets", async () => (burst.acknowledged().length >= 15 ? true : undefined), 60_000);

    first.child.kill("SIGKILL");
    await exited(first.child);
    await burst.stop();
    const orphan = dynamoPid()!;
    const orphanAliveAfterKill = isAlive(orphan);

    const second = startPlatformProcess();
    await waitUntilServing(second);
    const acknowledged = burst.acknowledged();
    // The two minutes of the invariant are this wait's limit.
    const audited = await waitFor(
      "an audit entry for every acknowledged ticket",
      async () => {
        const counts = await ticketInsertsAudited(api(), key);
        return acknowledged.every((id) => counts.has(id)) ? counts : undefined;
      },
      120_000,
      1_000,
    );
    const stored = await allTicketIds(api(), key);
    const verdict = await verifyLog(api(), key);

    // The killed run left its DynamoDB Local running; the new start stopped it and runs its own.
    expect(orphanAliveAfterKill).toBe(true);
    expect(isAlive(orphan)).toBe(false);
    expect(dynamoPid()).not.toBe(orphan);
    expect(isAlive(dynamoPid()!)).toBe(true);
    // Requests in flight at the kill got no answer; every answered one is 201 (or a rate limit's 429).
    expect(burst.outcomes.filter((o) => o.status !== 0 && ![201, 429].includes(o.status))).toEqual([]);
    expect(acknowledged.length).toBeGreaterThanOrEqual(15);
    expect(acknowledged.filter((id) => !stored.includes(id))).toEqual([]);
    expect(stored.length).toBe(new Set(stored).size);
    expect(acknowledged.filter((id) => audited.get(id) !== 1)).toEqual([]);
    expect([...audited.values()].every((n) => n === 1)).toBe(true);
    expect(verdict).toMatchObject({ valid: true, coverage: { complete: true, pending: 0, lost: [] } });

    // And it stops cleanly: Ctrl-C (SIGTERM) takes DynamoDB Local with it.
    const running = dynamoPid()!;
    second.child.kill("SIGTERM");
    await exited(second.child);
    expect(second.child.exitCode).toBe(0);
    await waitFor("DynamoDB Local to stop with the platform", async () => (isAlive(running) ? undefined : true), 15_000);
  }, 360_000);
});
