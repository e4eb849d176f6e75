import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeChatRequest, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * A chat turn that delegates (issue 12), in Chromium, with the fake OpenAI server as the model: the
 * CEO agent calls `delegate_task`, answers at once, and the chat then follows the delegated task live
 * (queued, working, done) until the senior manager's report appears under the reply, with no reload;
 * after a reload the conversation is still there (kept server-side).
 */
let platform: Platform;
let model: FakeOpenAI;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;
const ids: Record<string, string> = {};

const system = (request: FakeChatRequest) => String((request.messages[0] as { content: string }).content);
const last = (request: FakeChatRequest) => request.messages.at(-1) as { role: string; content: string };

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
  browser = await launch();
  tenant = await createTenant(platform, { name: "Hooli", tier: "professional" });
  for (const [name, roleId, manager] of [["Ada Lovelace", "ceo"], ["Grace Hopper", "senior-manager", "Ada Lovelace"]] as const) {
    const created = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name, roleId, ...(manager ? { managerId: ids[manager] } : {}) } });
    ids[name] = created.body.id;
  }
  model.respond((request) => {
    if (system(request).startsWith("You are Grace Hopper") || system(request).includes("You are Grace Hopper")) {
      // The senior manager's task, worked on the queue after the CEO's reply.
      return { content: "Q3 plan: hire two engineers, ship the API.", delayMs: 300 };
    }
    if (last(request).role === "tool") return "I have asked Grace Hopper to draft it; her report will follow.";
    return { toolCalls: [{ name: "delegate_task", arguments: { to: ids["Grace Hopper"], task: "Draft the Q3 plan." } }] };
  });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await model?.close();
});

describe("chat with an agent that delegates", () => {
  it("answers at once and follows the delegated task to its report, live", async () => {
    const { page, errors } = await browser.page(PHONE);
    await signIn(page, platform.url, tenant.key);
    await page.goto(`${platform.url}/#/chat/${ids["Ada Lovelace"]}`);
    await page.getByLabel(/Message to Ada Lovelace/).fill("Please get the Q3 plan drafted.");
    await page.getByRole("button", { name: "Send" }).click();

    await page.getByText("I have asked Grace Hopper to draft it; her report will follow.").waitFor();
    const followed = page.getByRole("list", { name: "Delegated tasks" }).getByRole("listitem");
    await followed.getByText("Grace Hopper").waitFor();
    // The report comes back under the reply, without a reload.
    await followed.getByText("Q3 plan: hire two engineers, ship the API.").waitFor({ timeout: 30_000 });
    await followed.getByText("Done", { exact: true }).waitFor();

    // The conversation is kept server-side: a reload shows it again.
    await page.reload();
    await page.getByText("Please get the Q3 plan drafted.").waitFor();
    await page.getByText("I have asked Grace Hopper to draft it; her report will follow.").waitFor();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 90_000);
});
