import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * A ticket's details as a daily user reads them, in Chromium at desktop and phone widths: the fields of
 * changes and problems, the link history as ticket numbers that are links, and actors by name with
 * their id on hover.
 */
let platform: Platform;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let botKeyId: string;
const WIDE = { width: 1440, height: 900 };

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  tenant = await createTenant(platform, { name: "Initech", tier: "professional" });
  const bot = await call(platform, `/organizations/${tenant.org.id}/api-keys`, { method: "POST", key: platform.operatorKey, body: { name: "helpdesk-bot" } });
  botKeyId = bot.body.id;
  const open = (body: Record<string, unknown>, key = tenant.key) => call(platform, "/tickets", { method: "POST", key, body });
  await open({ type: "incident", title: "TPS reports fail to print" }, bot.body.secret);
  await open({
    type: "problem",
    title: "Print spooler leaks memory",
    rootCause: "The spooler keeps every job's buffer.\nIt runs out of memory after about 500 jobs.",
    workaround: "Restart the spooler service nightly",
  });
  await call(platform, "/tickets/PRB0001001", { method: "PATCH", key: tenant.key, body: { knownError: true } });
  await open({
    type: "change",
    title: "Upgrade the print server",
    risk: "high",
    plannedStart: "2026-12-05T22:00:00Z",
    plannedEnd: "2026-12-06T01:00:00Z",
  });
  await call(platform, "/tickets/INC0001001/links", { method: "POST", key: tenant.key, body: { ticket: "PRB0001001" } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

async function openTicket(page: Page, number: string, title: string) {
  await page.goto(`${platform.url}/#/tickets/${number}`);
  await page.getByRole("heading", { name: `${number} · ${title}` }).waitFor();
}

/** The Details card's facts as "term: description" lines. */
const facts = (page: Page) =>
  page.locator(".facts").evaluate((dl) => {
    const out: Record<string, string> = {};
    for (const dt of Array.from(dl.querySelectorAll("dt"))) out[dt.textContent!.trim()] = (dt.nextElementSibling as HTMLElement).innerText.trim();
    return out;
  });

/** How far the page scrolls sideways (0 when everything fits). */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

describe.each([
  ["desktop", WIDE],
  ["phone", PHONE],
] as const)("ticket details (%s)", (name, viewport) => {
  it("shows a problem's root cause, workaround and known error, its link history as ticket links, and actors by name", async () => {
    const { page, errors } = await browser.page(viewport);
    await signIn(page, platform.url, tenant.key);
    await openTicket(page, "PRB0001001", "Print spooler leaks memory");

    const shown = await facts(page);
    const linked = page.locator(".history li").filter({ hasText: "Linked" }).first();
    const link = linked.getByRole("link", { name: "INC0001001" });

    expect(shown["Known error"]).toBe("Known error");
    expect(shown["Root cause"]).toBe("The spooler keeps every job's buffer.\nIt runs out of memory after about 500 jobs.");
    expect(shown["Workaround"]).toBe("Restart the spooler service nightly");
    expect(shown["Opened by"]).toBe("test");
    expect(await link.getAttribute("href")).toBe("#/tickets/INC0001001");
    expect(await linked.textContent()).not.toContain("{");
    expect(await page.locator(".history .actor").first().getAttribute("title")).toBe(`key:${tenant.keyId}`);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, `ticket-problem-${name}`);

    // The linked ticket's number leads to it; it was opened by the key named helpdesk-bot.
    await link.click();
    await page.getByRole("heading", { name: "INC0001001 · TPS reports fail to print" }).waitFor();
    const incident = await facts(page);
    const opener = page.locator(".facts .actor").filter({ hasText: "helpdesk-bot" }).first();

    expect(incident["Opened by"]).toBe("helpdesk-bot");
    expect(incident["Caller"]).toBe("helpdesk-bot");
    expect(await opener.getAttribute("title")).toBe(`key:${botKeyId}`);
    expect(await page.locator(".history").textContent()).toContain("by helpdesk-bot");
    expect(await seriousViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("shows a change's type, risk and planned window", async () => {
    const { page, errors } = await browser.page(viewport);
    await signIn(page, platform.url, tenant.key);
    await openTicket(page, "CHG0001001", "Upgrade the print server");

    const shown = await facts(page);
    const start = await page.evaluate(() => new Date("2026-12-05T22:00:00Z").toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));

    expect(shown["Type"]).toBe("Change (normal)");
    expect(shown["Risk"]).toBe("High");
    expect(shown["Planned start"]).toBe(start);
    expect(shown["Planned end"]).not.toBe("—");
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, `ticket-change-${name}`);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
