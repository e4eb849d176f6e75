import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Platform } from "../../local/platform";
import { allTicketIds, health, isAlive, ticketBurst, ticketInsertsAudited, verifyLog, waitFor } from "../support/faults";
import { createTenant, startTestPlatform } from "../support/platform";

/*
 * Fault: DynamoDB Local is killed (SIGKILL) in the middle of a burst of ticket creation.
 *
 * Invariant: the platform recovers by itself and loses nothing it acknowledged.
 * - while the database is down, requests are answered 503 with Retry-After, never 500;
 * - /health answers 503 while it is down, and 200 again once it is back;
 * - the supervisor restarts DynamoDB Local on the same port and data folder, unasked;
 * - every acknowledged (201) ticket exists exactly once and has exactly one audit entry within two
 *   minutes of the recovery; the chain is valid and its coverage complete (nothing pending or lost).
 */

let platform: Platform;
let key: string;
const dataDir = mkdtempSync(join(tmpdir(), "agentorg-fault-ddb-"));

beforeAll(async () => {
  platform = await startTestPlatform({ dataDir });
  ({ key } = await createTenant(platform, { name: "Under fire", tier: "enterprise" }));
});
afterAll(async () => {
  await platform?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("DynamoDB Local killed mid-burst", () => {
  it("answers 503 during the outage, restarts it, and audits every acknowledged ticket exactly once", async () => {
    const before = await health(platform);
    const firstPid = platform.dynamoDb.pid!;
    const burst = ticketBurst(() => platform, key);
    await waitFor("20 acknowledged tickets", async () => (burst.acknowledged().length >= 20 ? true : undefined), 60_000);

    await platform.dynamoDb.kill("SIGKILL");
    const killedAt = burst.outcomes.length;
    const down = await waitFor("/health to say 503 with the process down", async () => {
      const h = await health(platform);
      return h.status === 503 && h.body.dependencies.find((d: { name: string }) => d.name === "dynamodb-local").status === "down" ? h : undefined;
    }, 10_000, 50);
    await platform.dynamoDb.whenUp(120_000);
    const up = await waitFor("/health to say 200", async () => {
      const h = await health(platform);
      return h.status === 200 ? h : undefined;
    }, 60_000);
    // Writes after the recovery, too: the burst goes on until a few more are acknowledged.
    const acknowledgedAtRecovery = burst.acknowledged().length;
    await waitFor("tickets after the recovery", async () => (burst.acknowledged().length >= acknowledgedAtRecovery + 10 ? true : undefined), 60_000);
    await burst.stop();

    const acknowledged = burst.acknowledged();
    // The two minutes of the invariant are this wait's limit.
    const audited = await waitFor(
      "an audit entry for every acknowledged ticket",
      async () => {
        const counts = await ticketInsertsAudited(platform, key);
        return acknowledged.every((id) => counts.has(id)) ? counts : undefined;
      },
      120_000,
      1_000,
    ).catch(async (error: Error) => {
      // Say what is missing and where the poller stands, for whoever reads the failure.
      const counts = await ticketInsertsAudited(platform, key);
      const failures = join(dataDir, "stream-failures.jsonl");
      throw new Error(
        `${error.message}: ${acknowledged.filter((id) => !counts.has(id)).join(", ")} not audited; poller ${JSON.stringify(platform.poller.status())}; ` +
          `checkpoints ${readFileSync(join(dataDir, "stream-checkpoints.json"), "utf8")}; parked ${existsSync(failures) ? readFileSync(failures, "utf8").split("\n").length - 1 : 0}`,
      );
    });
    const stored = await allTicketIds(platform, key);
    const verdict = await verifyLog(platform, key);

    // The database went away and came back on its own, as a new process.
    expect(before.status).toBe(200);
    expect(down.body.status).toBe("down");
    expect(down.body.dependencies.find((d: { name: string }) => d.name === "dynamodb").status).toBe("down");
    expect(up.body.dependencies.find((d: { name: string }) => d.name === "dynamodb-local").info).toMatchObject({ state: "up", restarts: 1 });
    expect(platform.dynamoDb.pid).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect(readFileSync(join(dataDir, "dynamodb-local.pid"), "utf8").trim()).toBe(String(platform.dynamoDb.pid));
    // Never a 500, never a request left without an answer; the outage was seen as 503s with Retry-After.
    const statuses = new Set(burst.outcomes.map((o) => o.status));
    expect([...statuses].filter((s) => ![201, 429, 503].includes(s))).toEqual([]);
    const outage = burst.outcomes.slice(killedAt).filter((o) => o.status === 503);
    expect(outage.length).toBeGreaterThan(0);
    for (const o of outage) expect(o).toMatchObject({ code: "service_unavailable", retryAfter: expect.stringMatching(/^\d+$/) });
    // Nothing acknowledged was lost or doubled, and each is audited once, within two minutes.
    expect(acknowledged.filter((id) => !stored.includes(id))).toEqual([]);
    expect(stored.length).toBe(new Set(stored).size);
    expect(acknowledged.filter((id) => audited.get(id) !== 1)).toEqual([]);
    expect([...audited.values()].every((n) => n === 1)).toBe(true);
    expect(verdict).toMatchObject({ valid: true, coverage: { complete: true, pending: 0, lost: [] } });
  }, 300_000);

  it("in memory (no data folder): creates the table again after the restart and audits what comes next", async () => {
    // Invariant: an in-memory run loses its data with the process (nothing else to expect), but the
    // platform is usable again on its own: the table exists and the audit log follows the new stream.
    const memory = await startTestPlatform();
    try {
      await memory.dynamoDb.kill("SIGKILL");
      await memory.dynamoDb.whenUp(120_000);
      const t = await waitFor("an organization to be created again", async () => createTenant(memory, { name: "After the restart" }).catch(() => undefined), 30_000, 500);
      const entries = await waitFor("its audit entries", async () => {
        const found = await ticketInsertsAudited(memory, t.key).catch(() => undefined);
        const verdict = await verifyLog(memory, t.key);
        return found && verdict.length >= 2 ? verdict : undefined;
      }, 60_000, 500);

      expect(entries).toMatchObject({ valid: true, coverage: { complete: true } });
      expect((await health(memory)).status).toBe(200);
    } finally {
      await memory.stop();
    }
  }, 240_000);
});
