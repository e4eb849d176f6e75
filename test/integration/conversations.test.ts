import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { ENDED, eventually, messageIn } from "../support/work";
import { TestSocket } from "../support/ws-client";

/**
 * Chat transcripts kept server-side (issue 12): every person's chat turn over the WebSocket is kept as
 * its agent run, and `GET /conversations` gives a conversation back, newest first, so a reload or
 * another device shows it. A task's run (the work queue) is no chat turn; another tenant's agent is a 404.
 * No model is configured: the offline responder answers.
 */
let platform: Platform;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: undefined, AGENTORG_LLM_BASE_URL: undefined } });
});
afterAll(async () => {
  await platform?.stop();
});

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function connect(t: Tenant): Promise<TestSocket> {
  const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
  return TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
}

async function agent(t: Tenant, name: string, roleId: string, managerId: string | null = null): Promise<string> {
  const created = await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } });
  if (created.status !== 201) throw new Error(`create ${name}: ${created.status} ${created.text}`);
  return created.body.id;
}

async function chat(socket: TestSocket, message: string, agentId?: string) {
  socket.send({ action: "chat", message, ...(agentId ? { agentId } : {}) });
  return socket.next("chat.done", 15_000);
}

describe("conversations", () => {
  it("keeps each chat turn and gives a conversation back newest first, the channel apart", async () => {
    const t = await createTenant(platform);
    const ceo = await agent(t, "Ada", "ceo");
    const svp = await agent(t, "Sam", "senior-manager", ceo);
    const socket = await connect(t);
    const first = await chat(socket, "What is our mission?", ceo);
    await chat(socket, "And our vision?", ceo);
    await chat(socket, "Hello everyone", undefined);
    socket.close();

    const direct = await call(platform, `/conversations?agentId=${ceo}`, { key: t.key });
    expect(direct.status).toBe(200);
    expect(direct.body.items.map((e: { message: string }) => e.message)).toEqual(["And our vision?", "What is our mission?"]);
    expect(direct.body.items[1]).toMatchObject({ runId: first.runId, agentId: ceo, reply: first.reply, askedBy: `key:${t.keyId}`, offline: true, tier: first.tier, model: first.model });
    expect(direct.body.items[1].steps).toBeGreaterThan(0);

    // The organization channel is its own conversation, though the same (root) agent answers it.
    const channel = await call(platform, "/conversations", { key: t.key });
    expect(channel.body.items.map((e: { message: string }) => e.message)).toEqual(["Hello everyone"]);
    expect(channel.body.items[0].agentId).toBe(ceo);

    // Pages: one turn a page, with a cursor to the next.
    const page1 = await call(platform, `/conversations?agentId=${ceo}&limit=1`, { key: t.key });
    expect(page1.body.items).toHaveLength(1);
    const page2 = await call(platform, `/conversations?agentId=${ceo}&limit=1&cursor=${encodeURIComponent(page1.body.cursor)}`, { key: t.key });
    expect(page2.body.items.map((e: { message: string }) => e.message)).toEqual(["What is our mission?"]);

    // A task the senior manager works is no chat turn of its conversation.
    const sent = await call(platform, `/agents/${ceo}/messages`, { method: "POST", key: t.key, body: { kind: "delegate", to: svp, body: "Draft the plan." } });
    await eventually(() => messageIn(platform, t.key, svp, sent.body.items[0].id), (m) => ENDED.has(m?.status ?? ""), "the task to end");
    expect((await call(platform, `/conversations?agentId=${svp}`, { key: t.key })).body.items).toEqual([]);
  });

  it("is a 404 for an agent of another tenant or none, and empty for a channel without a root agent", async () => {
    const t = await createTenant(platform);
    const ceo = await agent(t, "Ada", "ceo");
    const stranger = await createTenant(platform);
    expect((await call(platform, `/conversations?agentId=${ceo}`, { key: stranger.key })).status).toBe(404);
    expect((await call(platform, "/conversations?agentId=01jzzzzzzzzzzzzzzzzzzzzzzz", { key: t.key })).status).toBe(404);
    expect((await call(platform, "/conversations", { key: stranger.key })).body).toEqual({ items: [] });
    const bad = await call(platform, "/conversations?agentId=not-an-id", { key: t.key });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
  });
});
