import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { DESKTOP, launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * The work board (issue 12), in Chromium: with no model configured, a delegation posted over the API
 * while the board is open appears on it and reaches Done by itself (the work queue's worker, the
 * offline responder), live, with no reload; the board fits a phone's width.
 */
let platform: Platform;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;
const ids: Record<string, string> = {};

beforeAll(async () => {
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: undefined, AGENTORG_LLM_BASE_URL: undefined } });
  browser = await launch();
  tenant = await createTenant(platform, { name: "Initech", tier: "professional" });
  for (const [name, roleId, manager] of [["Ada Lovelace", "ceo"], ["Grace Hopper", "senior-manager", "Ada Lovelace"]] as const) {
    const created = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name, roleId, ...(manager ? { managerId: ids[manager] } : {}) } });
    ids[name] = created.body.id;
  }
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe("work board", () => {
  for (const [width, viewport] of [["1440 px", { ...DESKTOP, width: 1440, height: 900 }], ["390 px", PHONE]] as const) {
    it(`shows a delegation reach Done live, at ${width}`, async () => {
      const { page, errors } = await browser.page(viewport);
      await signIn(page, platform.url, tenant.key);
      await page.getByRole("link", { name: "Work" }).click();
      await page.getByRole("heading", { name: "Work", level: 1 }).waitFor();
      await page.getByRole("meter", { name: "Working now" }).waitFor();

      const subject = `Q3 plan ${width}`;
      const sent = await call(platform, `/agents/${ids["Ada Lovelace"]}/messages`, {
        method: "POST",
        key: tenant.key,
        body: { kind: "delegate", to: ids["Grace Hopper"], subject, body: "Draft the Q3 plan." },
      });
      expect(sent.status).toBe(201);
      const row = page.locator(`tr[data-task="${sent.body.items[0].id}"]`);
      // Live: the page is not reloaded; the board follows the message events.
      await row.getByText("Done", { exact: true }).waitFor({ timeout: 30_000 });
      expect(await row.textContent()).toContain(subject);
      expect(await row.textContent()).toContain("Grace Hopper");
      expect(await row.textContent()).toMatch(/offline/i);
      await page.locator(".work-agents li").filter({ hasText: "Grace Hopper" }).getByText(/done/).waitFor();

      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await seriousViolations(page)).toEqual([]);
      if (width === "1440 px") await screenshot(page, "work-board");
      expect(unexpected(errors)).toEqual([]);
      await page.close();
    }, 90_000);
  }

  it("filters by status and says when there is nothing", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.goto(`${platform.url}/#/work`);
    await page.getByLabel("Status").selectOption("failed");
    await page.getByText("No failed tasks.").waitFor();
    await page.getByLabel("Status").selectOption("done");
    await page.locator("tr[data-task]").first().waitFor();
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
