import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

/**
 * Invariant: no input a caller controls reaches storage in a shape it rejects. Forged or transplanted
 * cursors and out-of-range numbers are 400 problems with a stable code, never a 500.
 */
let platform: Platform;
let t: Awaited<ReturnType<typeof createTenant>>;
let agentId: string;
let vpId: string;
let otherId: string;

beforeAll(async () => {
  platform = await startTestPlatform();
  t = await createTenant(platform);
  const ceo = await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "CEO", roleId: "ceo" } });
  agentId = ceo.body.id;
  vpId = (await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "VP", roleId: "senior-manager", managerId: agentId } })).body.id;
  otherId = (await call(platform, "/agents", { method: "POST", key: t.key, body: { name: "VP 2", roleId: "senior-manager", managerId: agentId } })).body.id;
  for (let i = 0; i < 3; i++) {
    await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title: `T${i}` } });
    const sent = await call(platform, `/agents/${agentId}/messages`, { method: "POST", key: t.key, body: { kind: "direct", to: vpId, body: `m${i}` } });
    if (sent.status !== 201) throw new Error(`message: ${sent.status} ${sent.text}`);
  }
});
afterAll(async () => {
  await platform?.stop();
});

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** Lists that page with a cursor, with the key shape a forger would try inside the caller's own partition. */
const lists = () => [
  { path: "/tickets", forged: { pk: `T#${t.org.id}`, sk: "ZZZZ" } },
  { path: `/agents/${vpId}/messages`, forged: { pk: `T#${t.org.id}`, sk: "AAAA" } },
  { path: "/routing/decisions", forged: { pk: `T#${t.org.id}`, sk: "~" } },
  { path: "/audit/entries", forged: { pk: `T#${t.org.id}`, sk: "AUDIT#x" } },
  { path: "/organizations", forged: { gsi1pk: "ORGS", gsi1sk: "z", pk: `T#${t.org.id}`, sk: "ORG" } },
];

describe("cursors cannot be forged", () => {
  it("refuses a start key in the caller's own partition that the API did not issue", async () => {
    for (const { path, forged } of lists()) {
      for (const cursor of [b64(forged), `${b64(forged)}.${"A".repeat(43)}`, "%%%", "a.b.c", "x".repeat(2000)]) {
        const result = await call(platform, `${path}?limit=1&cursor=${encodeURIComponent(cursor)}`, { key: path === "/organizations" ? platform.operatorKey : t.key });

        expect(result.status, `${path} with ${cursor.slice(0, 40)}`).toBe(400);
        expect(result.body.code).toBe("invalid_cursor");
      }
    }
  });

  it("refuses a cursor carried from one list to another, or from one agent's inbox to another's", async () => {
    const tickets = await call(platform, "/tickets?limit=1", { key: t.key });
    const messages = await call(platform, `/agents/${vpId}/messages?limit=1`, { key: t.key });

    const ticketCursorOnMessages = await call(platform, `/agents/${vpId}/messages?limit=1&cursor=${tickets.body.cursor}`, { key: t.key });
    const inboxCursorOnOtherInbox = await call(platform, `/agents/${otherId}/messages?limit=1&cursor=${messages.body.cursor}`, { key: t.key });
    const filteredCursorUnfiltered = await call(platform, `/tickets?limit=1&active=true&cursor=${tickets.body.cursor}`, { key: t.key });

    expect(tickets.body.cursor).toBeTruthy();
    expect(messages.body.cursor).toBeTruthy();
    for (const result of [ticketCursorOnMessages, inboxCursorOnOtherInbox, filteredCursorUnfiltered]) {
      expect(result.status).toBe(400);
      expect(result.body.code).toBe("invalid_cursor");
    }
  });

  it("still pages with the cursors it issues", async () => {
    const first = await call(platform, "/tickets?limit=2", { key: t.key });
    const second = await call(platform, `/tickets?limit=2&cursor=${first.body.cursor}`, { key: t.key });

    expect(first.body.items).toHaveLength(2);
    expect(second.status).toBe(200);
    expect(second.body.items.map((i: { id: string }) => i.id)).not.toContain(first.body.items[0].id);
  });
});

describe("numbers are bounded", () => {
  it("refuses a spend limit beyond any budget (the SDK cannot even store 1e308)", async () => {
    for (const spendLimitUsd of [1e308, 2 ** 53, 1e10]) {
      const result = await call(platform, `/organizations/${t.org.id}`, { method: "PATCH", key: t.key, body: { spendLimitUsd } });

      expect(result.status).toBe(400);
      expect(result.body.errors[0].field).toBe("spendLimitUsd");
    }
  });

  it("refuses max_tokens beyond the largest context window", async () => {
    const result = await call(platform, "/chat/completions", {
      method: "POST",
      key: t.key,
      body: { model: "auto", max_tokens: Number.MAX_SAFE_INTEGER, messages: [{ role: "user", content: "hi" }] },
    });

    expect(result.status).toBe(400);
  });
});
