import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * The message console as a daily user works it, in Chromium: the send form offers only the recipients
 * the hierarchy's rules allow (the same rule module the server enforces), and a message can be marked
 * read or done from the log.
 */
let platform: Platform;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  tenant = await createTenant(platform, { name: "Globex", tier: "professional" });
  const add = async (name: string, roleId: string, manager?: string) => {
    const created = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name, roleId, ...(manager ? { managerId: ids[manager] } : {}) } });
    ids[name] = created.body.id;
  };
  await add("Ada Lovelace", "ceo");
  await add("Grace Hopper", "senior-manager", "Ada Lovelace");
  await add("Alan Turing", "senior-manager", "Ada Lovelace");
  await add("Max Planck", "manager", "Grace Hopper");
  await add("Emmy Noether", "manager", "Alan Turing");
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

async function openForm(page: Page) {
  await signIn(page, platform.url, tenant.key);
  await page.goto(`${platform.url}/#/messages`);
  await page.getByRole("button", { name: "Send a message" }).click();
  await page.getByRole("form", { name: "Send a message as an agent" }).waitFor();
}

const recipients = (page: Page) => page.locator("#msg-to option").allTextContents();

describe("send form", () => {
  it("offers only the recipients the hierarchy allows for delegate and escalate", async () => {
    const { page, errors } = await browser.page();
    await openForm(page);

    await page.getByLabel("From", { exact: true }).selectOption({ label: "Grace Hopper" });
    await page.getByLabel("Kind").selectOption("delegate");
    const delegates = await recipients(page);
    await page.getByLabel("Kind").selectOption("escalate");
    const escalations = await recipients(page);
    await page.getByLabel("Kind").selectOption("direct");
    const direct = await recipients(page);

    expect(delegates).toEqual(["Choose an agent", "Max Planck"]);
    expect(escalations).toEqual(["The manager", "Ada Lovelace"]);
    expect(direct.slice(1).sort()).toEqual(["Ada Lovelace", "Alan Turing", "Emmy Noether", "Max Planck"]);
    expect(await seriousViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("says when a rule leaves no recipient and will not send, and sends an allowed delegation", async () => {
    const { page, errors } = await browser.page();
    await openForm(page);

    await page.getByLabel("From", { exact: true }).selectOption({ label: "Ada Lovelace" });
    await page.getByLabel("Kind").selectOption("escalate");
    await page.getByLabel("Message", { exact: true }).fill("Nobody above me");
    const rootEscalation = await recipients(page);
    const sendDisabled = await page.getByRole("button", { name: "Send", exact: true }).isDisabled();
    await page.getByLabel("From", { exact: true }).selectOption({ label: "Max Planck" });
    await page.getByLabel("Kind").selectOption("delegate");
    const leafDelegation = await recipients(page);
    await page.getByLabel("From", { exact: true }).selectOption({ label: "Alan Turing" });
    await page.getByLabel("To", { exact: true }).selectOption({ label: "Emmy Noether" });
    await page.getByLabel("Message", { exact: true }).fill("Review the Q4 audit");
    await page.getByRole("button", { name: "Send", exact: true }).click();
    await page.getByText("Sent: 1 message(s) delivered.").waitFor();
    const inbox = await call(platform, `/agents/${ids["Emmy Noether"]}/messages`, { key: tenant.key });

    expect(rootEscalation).toEqual(["No manager: cannot escalate"]);
    expect(sendDisabled).toBe(true);
    expect(leafDelegation).toEqual(["No reports to delegate to"]);
    expect(inbox.body.items.map((m: { body: string; kind: string }) => `${m.kind}: ${m.body}`)).toContain("delegate: Review the Q4 audit");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "messages-send");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});

describe("message status", () => {
  it("marks a message read and then done from the log, on a phone", async () => {
    // A broadcast: a plain message people mark (a delegation is a task the recipient works by itself).
    const sent = await call(platform, `/agents/${ids["Grace Hopper"]}/messages`, { method: "POST", key: tenant.key, body: { kind: "broadcast", subject: "Budget", body: "Cut cloud costs by 10%" } });
    const messageId: string = sent.body.items[0].id;
    const { page, errors } = await browser.page(PHONE);
    await signIn(page, platform.url, tenant.key);
    await page.goto(`${platform.url}/#/messages/${ids["Max Planck"]}`);
    const row = page.getByRole("row").filter({ hasText: "Cut cloud costs by 10%" });
    await row.waitFor();

    await row.getByRole("button", { name: "Mark read: Budget" }).click();
    await row.getByText("read", { exact: true }).waitFor();
    const statusNow = async () => (await call(platform, `/agents/${ids["Max Planck"]}/messages`, { key: tenant.key })).body.items.find((m: { id: string }) => m.id === messageId)?.status;
    const afterRead = await statusNow();
    await row.getByRole("button", { name: "Mark done: Budget" }).click();
    await row.getByText("done", { exact: true }).waitFor();
    const afterDone = await statusNow();

    expect(afterRead).toBe("read");
    expect(afterDone).toBe("done");
    expect(await row.getByRole("button").count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "messages-status-phone");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
