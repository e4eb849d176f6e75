import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

/**
 * Invariant: the audit log and the data agree on every character. Text that storage would change on
 * the way (a lone UTF-16 surrogate becomes U+FFFD) is refused with 400 `invalid_text`, as is NUL;
 * everything else, astral characters and invalid UTF-8 bytes (decoded to U+FFFD on arrival) included,
 * is stored, answered and audited identically.
 */
let platform: Platform;
let t: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  platform = await startTestPlatform();
  t = await createTenant(platform);
});
afterAll(async () => {
  await platform?.stop();
});

const raw = (json: string) => ({ method: "POST", key: t.key, raw: json, headers: { "content-type": "application/json" } });

async function auditedTitle(ticketId: string): Promise<string | undefined> {
  await platform.poller.drained();
  const entries = await call(platform, "/audit/entries?limit=100", { key: t.key });
  const created = entries.body.items.find((e: any) => e.entity?.type === "ticket" && e.entity?.id === ticketId && e.action === "insert");
  return created?.summary?.after?.title;
}

describe("text the platform refuses", () => {
  it.each([
    ["a lone high surrogate", String.raw`{"type":"incident","title":"bad \ud800 title"}`, "title"],
    ["a lone low surrogate", String.raw`{"type":"incident","title":"bad \udc00"}`, "title"],
    ["reversed surrogates", String.raw`{"type":"incident","title":"\udc00\ud800"}`, "title"],
    ["NUL", String.raw`{"type":"incident","title":"nul \u0000 here"}`, "title"],
    ["a lone surrogate in a member name", String.raw`{"type":"incident","title":"ok","\ud800":1}`, "(root)"],
  ])("%s in a body is 400 invalid_text naming the field", async (_what, json, field) => {
    const result = await call(platform, "/tickets", raw(json));

    expect(result.status).toBe(400);
    expect(result.body.code).toBe("invalid_text");
    expect(result.body.errors[0]).toMatchObject({ field, in: "body" });
  });

  it("a NUL in a query parameter is 400 invalid_text", async () => {
    const result = await call(platform, "/tickets?q=a%00b", { key: t.key });

    expect(result.status).toBe(400);
    expect(result.body.code).toBe("invalid_text");
  });

  it("a lone surrogate in a WebSocket frame gets an invalid_text error frame; the socket stays open", async () => {
    const token = await call(platform, "/ws-tokens", { method: "POST", key: t.key });
    const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);

    socket.send(String.raw`{"action":"chat","message":"hi \ud800"}`);
    const error = await socket.next("error");
    socket.send({ action: "ping" });
    const pong = await socket.next("pong");
    socket.close();

    expect(error.problem.code).toBe("invalid_text");
    expect(pong.type).toBe("pong");
  });
});

describe("text the platform keeps exactly", () => {
  it("stores, answers and audits astral characters and combining marks unchanged", async () => {
    const title = "Rocket 🚀 launch, café (e\u0301), 日本語, 𝔘𝔫𝔦𝔠𝔬𝔡𝔢";

    const created = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title } });
    const read = await call(platform, `/tickets/${created.body.id}`, { key: t.key });

    expect(created.status).toBe(201);
    expect(read.body.title).toBe(title);
    expect(await auditedTitle(created.body.id)).toBe(title);
  });

  it("decodes invalid UTF-8 bytes to U+FFFD once, on arrival, and keeps that everywhere", async () => {
    const body = Buffer.concat([Buffer.from('{"type":"incident","title":"bytes '), Buffer.from([0xff, 0xfe]), Buffer.from(' end"}')]);

    const response = await fetch(`${platform.apiUrl}/tickets`, { method: "POST", headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" }, body });
    const created = (await response.json()) as { id: string; title: string };
    const read = await call(platform, `/tickets/${created.id}`, { key: t.key });

    expect(response.status).toBe(201);
    expect(created.title).toBe("bytes \ufffd\ufffd end");
    expect(read.body.title).toBe(created.title);
    expect(await auditedTitle(created.id)).toBe(created.title);
  });
});
