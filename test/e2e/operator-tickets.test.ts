import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { DESKTOP, launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * The operator's `#/tickets`, in Chromium at both widths: it says that tickets belong to an
 * organization and leads to the one picked, instead of silently showing the Organizations page.
 */
let platform: Platform;
let browser: Browser;
let globex: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  await createTenant(platform, { name: "Acme Bank", tier: "professional" });
  globex = await createTenant(platform, { name: "Globex", tier: "basic" });
  await call(platform, "/tickets", { method: "POST", key: globex.key, body: { type: "incident", title: "Printer on fire" } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe("operator #/tickets", () => {
  for (const [width, viewport] of [["desktop", DESKTOP], ["phone", PHONE]] as const) {
    it(`says tickets belong to an organization and opens the one picked (${width})`, async () => {
      const { page, errors } = await browser.page(viewport);
      await signIn(page, platform.url, platform.operatorKey);
      await page.goto(`${platform.url}/#/tickets`);

      await page.getByRole("heading", { name: "Tickets belong to an organization" }).waitFor();
      const hash = await page.evaluate(() => location.hash);
      await page.getByLabel("Organization", { exact: true }).selectOption({ label: "Globex" });
      await page.getByText("Globex: 1 of").waitFor();
      const nav = await page.getByRole("navigation", { name: "Main" }).textContent();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      expect(await seriousViolations(page)).toEqual([]);
      await screenshot(page, `operator-tickets-${width}`);
      await page.getByRole("link", { name: "Open Globex" }).click();
      await page.getByRole("heading", { name: "Globex" }).first().waitFor();

      expect(hash).toBe("#/tickets");
      expect(nav).not.toContain("Tickets");
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await page.evaluate(() => location.hash)).toBe(`#/organizations/${globex.org.id}`);
      expect(unexpected(errors)).toEqual([]);
      await page.close();
    }, 60_000);
  }
});
