import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/** Tickets (list, filters, SLA, workflow, comments) and the audit log in Chromium against the local platform. */
let platform: Platform;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  tenant = await createTenant(platform, { name: "Globex", industry: "tech", tier: "professional" });
  const ceo = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Hal", roleId: "ceo" } });
  await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Iris", roleId: "incident-manager", managerId: ceo.body.id } });
  await call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "service_request", title: "New laptop for Bo", impact: 3, urgency: 3 } });
  await call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "problem", title: "Recurring VPN drops" } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/** The transition buttons on offer. */
const offered = (page: Page) => page.getByRole("group", { name: "Move to" }).getByRole("button").allTextContents();

async function move(page: Page, to: string, fill: (page: Page) => Promise<void> = async () => undefined) {
  await page.getByRole("group", { name: "Move to" }).getByRole("button", { name: to, exact: true }).click();
  await fill(page);
  await page.getByRole("button", { name: `Move to ${to}` }).click();
  await page.locator(".state-name").filter({ hasText: new RegExp(`^${to}$`) }).waitFor();
}

describe("tickets", () => {
  it("creates an incident and moves it through the allowed transitions only", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Tickets" }).click();
    await page.getByRole("region", { name: "Tickets" }).waitFor();

    await page.getByRole("button", { name: "New ticket" }).click();
    const form = page.getByRole("form", { name: "New ticket" });
    await form.getByLabel("Type").selectOption("incident");
    await form.getByLabel("Short description").fill("Payroll is down");
    await form.getByLabel("Impact").selectOption("1");
    await form.getByLabel("Urgency").selectOption("2");
    await form.getByLabel("Assigned to").selectOption({ label: "Iris" });
    await form.getByRole("button", { name: "Create ticket" }).click();
    await page.getByRole("heading", { name: "INC0001001 · Payroll is down" }).waitFor();

    expect(await page.locator(".facts").textContent()).toContain("2 High");
    expect(await offered(page)).toEqual(["In progress", "Canceled"]);
    expect(await page.getByRole("meter", { name: "Response SLA" }).count()).toBe(1);
    await move(page, "In progress");
    expect(await offered(page)).toEqual(["On hold", "Resolved", "Canceled"]);
    await move(page, "On hold", async (p) => {
      expect(await p.getByRole("button", { name: "Move to On hold" }).isDisabled()).toBe(true);
      await p.getByLabel("Hold reason").selectOption("awaiting_vendor");
    });
    expect(await page.locator("#state-title").textContent()).toContain("Awaiting vendor");
    expect(await offered(page)).toEqual(["In progress", "Resolved", "Canceled"]);
    await move(page, "In progress");
    await move(page, "Resolved", async (p) => {
      await p.getByLabel("Resolution code").selectOption("solved_permanently");
      await p.getByLabel(/Notes/).fill("Restarted the payroll service");
    });
    expect(await offered(page)).toEqual(["Closed", "In progress"]);
    await page.getByLabel("Text").fill("Confirmed with the caller.");
    await page.getByRole("button", { name: "Add comment" }).click();
    await page.locator(".history .note").filter({ hasText: "Confirmed with the caller." }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "ticket-detail");
    await move(page, "Closed");

    expect(await page.getByRole("group", { name: "Move to" }).count()).toBe(0);
    expect(await page.getByText("Closed is final").count()).toBe(1);
    await page.locator(".history").filter({ hasText: "State: Resolved → Closed" }).waitFor();
    const history = await page.locator(".history").textContent();
    expect(history).toContain("State: In progress → On hold");
    expect(history).toContain("Restarted the payroll service");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 80_000);

  it("lists tickets with filters and SLA status", async () => {
    const { page, errors } = await browser.page();
    await call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "incident", title: "Email is slow", impact: 2, urgency: 2 } });
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Tickets" }).click();
    const table = page.getByRole("region", { name: "Tickets" });
    await table.getByRole("link", { name: "INC0001002" }).waitFor();

    const open = await table.getByRole("row").count();
    await page.getByLabel("Type").selectOption("incident");
    await table.getByRole("link", { name: "REQ0001001" }).waitFor({ state: "detached" });
    const slowRow = table.getByRole("row").filter({ hasText: "Email is slow" });
    await page.getByLabel("Open or closed").selectOption("");
    await table.getByRole("link", { name: "INC0001001" }).waitFor();

    expect(open).toBe(4); // header + 3 open tickets (the closed incident is hidden by default)
    expect(await slowRow.textContent()).toContain("On track");
    expect(await slowRow.textContent()).toContain("3 Moderate");
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByLabel("Search").fill("nothing-matches-this");
    await page.getByText("No ticket matches these filters.").waitFor();
    await page.getByRole("button", { name: "Clear filters" }).click();
    await table.getByRole("link", { name: "INC0001002" }).waitFor();
    await screenshot(page, "tickets");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});

describe("audit log", () => {
  it("shows entries and checkpoints, and verifies the chain", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("region", { name: "Audit entries" }).waitFor();

    await page.getByRole("button", { name: "Verify chain" }).click();
    const verdict = page.locator(".verdict");
    await verdict.waitFor();

    expect(await verdict.textContent()).toContain("The chain is intact");
    expect(await verdict.textContent()).toMatch(/\d+ entries verified/);
    expect(await page.getByRole("region", { name: "Audit entries" }).textContent()).toContain("Ticket");
    await page.getByRole("region", { name: "Checkpoints", exact: true }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "audit");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("works on a phone-width screen", async () => {
    const { page, errors } = await browser.page(PHONE);
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Tickets" }).click();
    await page.getByRole("region", { name: "Tickets" }).waitFor();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

    expect(overflow).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "tickets-phone");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
