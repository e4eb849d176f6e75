import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";

/*
 * What one request adds to the audit log (issue 11's cost per request): every audit entry is a
 * transactional write of the entry, its source marker and the chain head, so derived state (usage
 * counters and their budget reservations, quota and number counters, number claims) stays out and
 * only the facts are recorded; a ticket's creation is not repeated as a history item either. The counters are still right: they are checked beside the log.
 */

let platform: Platform;
let model: FakeOpenAI;

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL } });
});
afterAll(async () => {
  await platform?.stop();
  await model?.close();
});

type Entry = { seq: number; action: string; entity: { type: string; id: string } };

async function entriesAfter(key: string, seq: number): Promise<Entry[]> {
  await platform.poller.drained();
  const page = await call(platform, `/audit/entries?fromSeq=${seq + 1}&limit=100`, { key });
  expect(page.status).toBe(200);
  return page.body.items;
}

async function lastSeq(key: string): Promise<number> {
  await platform.poller.drained();
  const page = await call(platform, "/audit/entries?limit=1", { key });
  return page.body.items[0]?.seq ?? 0;
}

describe("audit entries per request", () => {
  it("records a chat completion as one entry, its cost record, while the usage counts it", async () => {
    const { org, key } = await createTenant(platform);
    const before = await lastSeq(key);

    const answer = await call(platform, "/chat/completions", { method: "POST", key, body: { model: "auto", messages: [{ role: "user", content: "hi" }] } });
    const entries = await entriesAfter(key, before);
    const usage = await call(platform, `/organizations/${org.id}/usage`, { key });

    expect(answer.status).toBe(200);
    expect(entries.map((e) => `${e.action} ${e.entity.type}`)).toEqual(["insert costRecord"]);
    expect(usage.body.queries.total).toBe(1);
    expect((await call(platform, "/audit/verify", { key })).body).toMatchObject({ valid: true, coverage: { complete: true } });
  });

  it("records a ticket creation as one entry, the ticket, not its number claim or counters", async () => {
    const { key } = await createTenant(platform);
    const before = await lastSeq(key);

    const created = await call(platform, "/tickets", { method: "POST", key, body: { type: "incident", title: "Printer on fire", impact: 2, urgency: 2 } });
    const entries = await entriesAfter(key, before);

    expect(created.status).toBe(201);
    expect(entries.map((e) => `${e.action} ${e.entity.type}`)).toEqual(["insert ticket"]);
    expect(entries[0]!.entity.id).toBe(created.body.id);
    // The history still starts with the creation, told from the ticket.
    const read = await call(platform, `/tickets/${created.body.id}`, { key });
    expect(read.body.history.map((h: { action: string }) => h.action)).toEqual(["created"]);
  });
});
