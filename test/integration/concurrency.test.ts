import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { keys } from "../../core/db/keys";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

/**
 * Invariant: no decision is lost to a concurrent write. Every read-modify-write is conditional (a
 * version, or an update expression of the changed attributes only): what a racing writer decided
 * either survives or makes the other re-read and decide again; appends never conflict for good.
 */
let platform: Platform;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  platform = await startTestPlatform();
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  db?.destroy();
  await platform?.stop();
});

const TRIALS = 4;
const RACERS = 30;

describe("organizations", () => {
  it.each(Array.from({ length: TRIALS }, (_, i) => [i + 1]))("a close racing tenant renames stays closed (trial %i)", async () => {
    const t = await createTenant(platform);

    const renames = Array.from({ length: RACERS }, (_, i) =>
      call(platform, `/organizations/${t.org.id}`, { method: "PATCH", key: t.key, body: { name: `Renamed ${i}` } }),
    );
    const close = call(platform, `/organizations/${t.org.id}`, { method: "DELETE", key: platform.operatorKey });
    const results = await Promise.all([...renames, close]);
    const after = await call(platform, `/organizations/${t.org.id}`, { key: platform.operatorKey });
    const withKey = await call(platform, `/organizations/${t.org.id}`, { key: t.key });

    expect(results.at(-1)!.status).toBe(200);
    // A rename either landed before the close, or was refused after it (401: the key no longer works; 403: closed).
    for (const r of results.slice(0, -1)) expect([200, 401, 403]).toContain(r.status);
    expect(after.body.status).toBe("closed");
    expect(withKey.status).toBe(401);
  });

  it.each(Array.from({ length: TRIALS }, (_, i) => [i + 1]))("a tier change racing tenant renames is kept (trial %i)", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });

    const renames = Array.from({ length: RACERS }, (_, i) =>
      call(platform, `/organizations/${t.org.id}`, { method: "PATCH", key: t.key, body: { name: `Renamed ${i}` } }),
    );
    const downgrade = call(platform, `/organizations/${t.org.id}`, { method: "PATCH", key: platform.operatorKey, body: { tier: "basic" } });
    const results = await Promise.all([...renames, downgrade]);
    const after = await call(platform, `/organizations/${t.org.id}`, { key: platform.operatorKey });

    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(after.body.tier).toBe("basic");
    expect(after.body.quotas.agents).toBe(10);
    expect(after.body.name).toMatch(/^Renamed \d+$/);
    // Every change is counted: 1 create + 30 renames + 1 tier change.
    expect(after.body.version).toBe(RACERS + 2);
  });
});

describe("tickets", () => {
  it("lands every one of 40 concurrent comments on one ticket, each with its own seq", async () => {
    const t = await createTenant(platform);
    const ticket = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title: "Busy ticket" } });

    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call(platform, `/tickets/${ticket.body.id}/comments`, { method: "POST", key: t.key, body: { text: `comment ${i}` } })),
    );
    const after = await call(platform, `/tickets/${ticket.body.id}`, { key: t.key });
    const comments = after.body.history.filter((h: { action: string }) => h.action === "commented");

    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
    expect(comments).toHaveLength(40);
    expect(new Set(comments.map((c: { note: string }) => c.note)).size).toBe(40);
    expect(new Set(after.body.history.map((h: { seq: number }) => h.seq)).size).toBe(after.body.history.length);
    expect(after.body.version).toBe(after.body.history.length);
  });
});

describe("agents and the hierarchy", () => {
  /** Walks up from every agent: a cycle or a manager that is not above its report breaks the invariant. */
  function assertTreeValid(agents: { id: string; managerId: string | null; level: number }[]) {
    const byId = new Map(agents.map((a) => [a.id, a]));
    for (const agent of agents) {
      const seen = new Set<string>();
      let current: (typeof agents)[number] | undefined = agent;
      while (current?.managerId) {
        expect(seen.has(current.id), `cycle through ${current.id}`).toBe(false);
        seen.add(current.id);
        const manager = byId.get(current.managerId);
        expect(manager, `manager ${current.managerId} of ${current.id} exists`).toBeDefined();
        expect(manager!.level).toBeLessThan(current.level);
        current = manager;
      }
    }
  }

  it.each(Array.from({ length: 6 }, (_, i) => [i + 1]))("keeps the tree valid when moves and a level change race (trial %i)", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const create = async (name: string, roleId: string, managerId: string | null) =>
      (await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } })).body.id as string;
    const ceo = await create("CEO", "ceo", null);
    const vp = await create("VP", "senior-manager", ceo);
    const mgrA = await create("Manager A", "manager", vp);
    const mgrB = await create("Manager B", "manager", vp);
    const lead = await create("Lead", "team-lead", mgrA);
    const role = await call(platform, "/roles", { method: "POST", key: t.key, body: { name: "Floor worker", level: 5, systemPrompt: "work" } });

    // Manager B takes a level-5 role (legal while it has no reports) while the lead moves under it.
    await Promise.all([
      call(platform, `/agents/${mgrB}`, { method: "PATCH", key: t.key, body: { roleId: role.body.id } }),
      call(platform, `/agents/${lead}`, { method: "PATCH", key: t.key, body: { managerId: mgrB } }),
      call(platform, "/agents", { method: "POST", key: t.key, body: { name: "New lead", roleId: "team-lead", managerId: mgrB } }),
    ]);
    const agents = await call(platform, "/agents", { key: t.key });

    assertTreeValid(agents.body.items);
  });

  it("creates 20 agents at once under one manager without refusing any (creates do not serialize)", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const ceo = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "CEO", roleId: "ceo" } });

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => call(platform, "/agents", { method: "POST", key: t.key, body: { name: `S${i}`, roleId: "specialist", managerId: ceo.body.id } })),
    );

    expect(results.map((r) => r.status).filter((s) => s !== 201)).toEqual([]);
  });

  it("never leaves an agent holding a role deleted at the same time", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const ceo = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "CEO", roleId: "ceo" } });
    for (let trial = 0; trial < TRIALS; trial++) {
      const role = await call(platform, "/roles", { method: "POST", key: t.key, body: { name: `Temp ${trial}`, level: 5, systemPrompt: "x" } });

      const [created, deleted] = await Promise.all([
        call(platform, "/agents", { method: "POST", key: t.key, body: { name: `Holder ${trial}`, roleId: role.body.id, managerId: ceo.body.id } }),
        call(platform, `/roles/${role.body.id}`, { method: "DELETE", key: t.key }),
      ]);
      const roleNow = await call(platform, `/roles/${role.body.id}`, { key: t.key });

      // Exactly one wins: the agent with its role, or the deletion with no agent.
      expect([created.status, deleted.status].sort()).toEqual(created.status === 201 ? [201, 409] : [204, 404]);
      expect(roleNow.status).toBe(created.status === 201 ? 200 : 404);
    }
  });

  it("keeps both turns of two concurrent chats with the same agent in its memory", async () => {
    const t = await createTenant(platform);
    const ceo = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "CEO", roleId: "ceo" } });

    // Three sockets: frames of one connection are handled one at a time, separate connections at once.
    const sockets = await Promise.all(
      [1, 2, 3].map(async () => TestSocket.open(`${platform.wsUrl}?token=${(await call(platform, "/ws-tokens", { method: "POST", key: t.key })).body.token}`)),
    );

    const chats = await Promise.all(
      ["first question", "second question", "third question"].map((message, i) => {
        sockets[i]!.send({ action: "chat", agentId: ceo.body.id, message });
        return sockets[i]!.next("chat.done", 20_000);
      }),
    );
    sockets.forEach((socket) => socket.close());
    const { Item } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.agentMemory(t.org.id, ceo.body.id), ConsistentRead: true }));
    const userTurns = (Item?.turns as { role: string; content: string }[]).filter((turn) => turn.role === "user").map((turn) => turn.content);

    expect(chats.map((c) => c.type)).toEqual(["chat.done", "chat.done", "chat.done"]);
    expect(userTurns.sort()).toEqual(["first question", "second question", "third question"]);
  });
});
