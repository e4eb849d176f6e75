import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * Layout as the user met it, in Chromium: every page at 390×844 without horizontal scrolling
 * of the page and with the whole navigation visible; the ticket table's State and SLA visible on a
 * phone; the API-keys table's Revoke button not clipped at 1440 px; the message Kind dropdown's text
 * not truncated.
 */
let platform: Platform;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;
const WIDE = { width: 1440, height: 900 };

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  tenant = await createTenant(platform, { name: "Initech Financial Services", tier: "professional" });
  const ceo = (await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Ada Lovelace", roleId: "ceo" } })).body.id;
  const vp = (await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Grace Hopper", roleId: "senior-manager", managerId: ceo } })).body.id;
  await call(platform, `/agents/${ceo}/messages`, { method: "POST", key: tenant.key, body: { kind: "delegate", to: vp, subject: "Budget", body: "Cut cloud costs by 10% before the end of the quarter" } });
  const ticket = await call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "incident", title: "The TPS report printer on the third floor jams on every cover sheet", impact: 1, urgency: 2, assignedTo: vp } });
  if (ticket.status !== 201) throw new Error(`ticket not created: ${JSON.stringify(ticket.body)}`);
  await call(platform, `/organizations/${tenant.org.id}/api-keys`, { method: "POST", key: platform.operatorKey, body: { name: "helpdesk-integration-bot" } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/** How far the page and the navigation overflow the viewport (0 or less: none), and nav links cut off. */
async function overflow(page: Page) {
  return page.evaluate(() => {
    const nav = document.querySelector("nav[aria-label='Main']")!;
    const cut = Array.from(nav.querySelectorAll("a")).filter((a) => {
      const r = a.getBoundingClientRect();
      return r.left < 0 || r.right > innerWidth || a.scrollWidth > a.clientWidth;
    });
    return { page: document.documentElement.scrollWidth - innerWidth, nav: nav.scrollWidth - nav.clientWidth, cut: cut.map((a) => a.textContent) };
  });
}

async function visit(page: Page, hash: string, ready: string) {
  await page.goto(`${platform.url}/#/${hash}`);
  await page.getByRole("heading", { name: ready }).first().waitFor();
}

const ORG_PAGES: [string, string][] = [
  ["agents", "Agents"],
  ["chat", "Chat"],
  ["messages", "Messages"],
  ["approvals", "Approvals"],
  ["tickets", "Tickets"],
  ["tickets/INC0001001", "INC0001001"],
  ["audit", "Audit log"],
  ["cost", "Cost"],
  ["organizations", "Initech Financial Services"],
];

describe("390 px", () => {
  for (const [hash, heading] of ORG_PAGES) {
    it(`#/${hash} fits the width, navigation included`, async () => {
      const { page, errors } = await browser.page(PHONE);
      await signIn(page, platform.url, tenant.key);
      await visit(page, hash, heading);

      const o = await overflow(page);
      expect(o.cut).toEqual([]);
      expect(o.page).toBeLessThanOrEqual(0);
      expect(o.nav).toBeLessThanOrEqual(0);
      expect(await seriousViolations(page)).toEqual([]);
      expect(unexpected(errors)).toEqual([]);
      await page.close();
    }, 60_000);
  }

  for (const [hash, heading] of [["organizations", "Organizations"], [`organizations/${"ORG"}`, "Initech Financial Services"], ["audit", "Audit log"], ["cost", "Cost"], ["tickets", "Tickets"]] as const) {
    it(`operator #/${hash.replace("ORG", "{id}")} fits the width, navigation included`, async () => {
      const { page, errors } = await browser.page(PHONE);
      await signIn(page, platform.url, platform.operatorKey);
      await visit(page, hash.replace("ORG", tenant.org.id), heading);

      const o = await overflow(page);
      expect(o.cut).toEqual([]);
      expect(o.page).toBeLessThanOrEqual(0);
      expect(o.nav).toBeLessThanOrEqual(0);
      expect(await seriousViolations(page)).toEqual([]);
      expect(unexpected(errors)).toEqual([]);
      await page.close();
    }, 60_000);
  }

  it("shows a ticket's State and SLA without scrolling the table sideways", async () => {
    const { page, errors } = await browser.page(PHONE);
    await signIn(page, platform.url, tenant.key);
    await visit(page, "tickets", "Tickets");
    await page.getByRole("region", { name: "Tickets" }).waitFor();

    const seen = await page.evaluate(() => {
      const wrap = document.querySelector("[aria-label='Tickets'].table-wrap")!;
      const box = wrap.getBoundingClientRect();
      const cells = Array.from(wrap.querySelectorAll("tbody tr:first-child td")).filter((td) => /^(State|SLA)$/.test(td.getAttribute("data-label") ?? ""));
      return { sideways: wrap.scrollWidth - wrap.clientWidth, cells: cells.map((td) => ({ label: td.getAttribute("data-label"), inside: td.getBoundingClientRect().right <= box.right && td.getBoundingClientRect().right <= innerWidth })) };
    });
    await screenshot(page, "tickets-phone");

    expect(seen.sideways).toBeLessThanOrEqual(0);
    expect(seen.cells).toEqual([{ label: "State", inside: true }, { label: "SLA", inside: true }]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});

describe("wide and form controls", () => {
  it("shows the API keys' Revoke button whole at 1440 px", async () => {
    const { page, errors } = await browser.page(WIDE);
    await signIn(page, platform.url, platform.operatorKey);
    await visit(page, `organizations/${tenant.org.id}`, "Initech Financial Services");
    const revoke = page.getByRole("button", { name: "Revoke helpdesk-integration-bot" });
    await revoke.waitFor();

    const fit = await revoke.evaluate((button) => {
      const wrap = button.closest(".table-wrap")!;
      return { sideways: wrap.scrollWidth - wrap.clientWidth, clipped: button.getBoundingClientRect().right - wrap.getBoundingClientRect().right };
    });

    expect(fit.sideways).toBeLessThanOrEqual(0);
    expect(fit.clipped).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  for (const [width, viewport] of [["1440 px", WIDE], ["390 px", PHONE]] as const) {
    it(`shows the message Kind dropdown's choice untruncated (${width})`, async () => {
      const { page, errors } = await browser.page(viewport);
      await signIn(page, platform.url, tenant.key);
      await visit(page, "messages", "Messages");
      await page.getByRole("button", { name: "Send a message" }).click();
      const kind = page.getByLabel("Kind");

      const widths: { text: number; room: number }[] = [];
      for (const option of ["direct", "delegate", "escalate", "broadcast"]) {
        await kind.selectOption(option);
        widths.push(
          await kind.evaluate((select: HTMLSelectElement) => {
            const style = getComputedStyle(select);
            const context = document.createElement("canvas").getContext("2d")!;
            context.font = style.font;
            const text = context.measureText(select.selectedOptions[0]!.text).width;
            // The closed select shows its text between the paddings, left of the arrow (about 20 px).
            return { text: Math.ceil(text), room: select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20 };
          }),
        );
      }

      for (const w of widths) expect(w.text).toBeLessThanOrEqual(w.room);
      expect(await seriousViolations(page)).toEqual([]);
      expect(unexpected(errors)).toEqual([]);
      await page.close();
    }, 60_000);
  }
});
