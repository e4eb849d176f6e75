import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * The console's ticket forms (issue 14), in Chromium at desktop and phone widths: a new ticket with a
 * caller (a person or an agent), an assignment group and an assignee chosen from its members, a
 * change's risk and planned window, a problem's fields; editing and reassigning a ticket, and the
 * message and reload when someone else changed it meanwhile.
 */
let platform: Platform;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;
const agents: Record<string, string> = {};
const groups: Record<string, string> = {};
const WIDE = { width: 1440, height: 900 };

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  tenant = await createTenant(platform, { name: "Initech", tier: "professional" });
  const agent = async (name: string, roleId: string, managerId: string | null = null) => {
    const result = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name, roleId, managerId } });
    agents[name] = result.body.id;
  };
  await agent("Ada", "ceo");
  await agent("Lee", "team-lead", agents.Ada);
  await agent("Sol", "specialist", agents.Lee);
  await agent("Sky", "specialist", agents.Lee);
  const group = async (name: string, members: string[]) => {
    const result = await call(platform, "/assignment-groups", { method: "POST", key: tenant.key, body: { name, members: members.map((m) => agents[m]) } });
    groups[name] = result.body.id;
  };
  await group("Service Desk", ["Lee", "Sol"]);
  await group("Network", ["Sky"]);
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

/** The Details card's facts as "term: description" lines. */
const facts = (page: Page) =>
  page.locator(".facts").evaluate((dl) => {
    const out: Record<string, string> = {};
    for (const dt of Array.from(dl.querySelectorAll("dt"))) out[dt.textContent!.trim()] = (dt.nextElementSibling as HTMLElement).innerText.trim();
    return out;
  });
/** The labels of a select's options. */
const options = (form: ReturnType<Page["locator"]>, label: string) => form.getByLabel(label).locator("option").allTextContents();
/** How far the page scrolls sideways (0 when everything fits). */
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

/** Opens the new-ticket form; its fields are looked up inside it (the filters have labels like Type too). */
/** The list filters whose chosen text does not fit their closed select (with the assignment group, one more filter). */
const truncatedFilters = (page: Page) =>
  page.locator(".filters select").evaluateAll((selects: HTMLSelectElement[]) =>
    selects.flatMap((select) => {
      const style = getComputedStyle(select);
      const context = document.createElement("canvas").getContext("2d")!;
      context.font = style.font;
      const text = context.measureText(select.selectedOptions[0]!.text).width;
      // The closed select shows its text between the paddings, left of the arrow (about 20 px).
      const room = select.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
      return text > room ? [select.selectedOptions[0]!.text] : [];
    }),
  );

async function newTicketForm(page: Page) {
  await page.goto(`${platform.url}/#/tickets`);
  await page.getByRole("button", { name: "New ticket" }).click();
  await page.getByRole("heading", { name: "New ticket" }).waitFor();
  return page.locator("#new-ticket");
}

async function created(page: Page, title: string): Promise<Record<string, string>> {
  await page.getByRole("button", { name: "Create ticket" }).click();
  await page.getByRole("heading", { name: new RegExp(` · ${title.replace(/[()]/g, "\\$&")}$`) }).or(page.locator(".form-error")).first().waitFor();
  expect(await page.locator(".form-error").count(), await page.locator(".form-error").allTextContents().then((t) => t.join())).toBe(0);
  return facts(page);
}

describe.each([
  ["desktop", WIDE],
  ["phone", PHONE],
] as const)("ticket forms (%s)", (name, viewport) => {
  it("opens an incident for an agent caller, in an assignment group, assigned to one of its members", async () => {
    const { page, errors } = await browser.page(viewport);
    await signIn(page, platform.url, tenant.key);
    const form = await newTicketForm(page);
    const title = `Printer jams on floor 3 (${name})`;

    await form.getByLabel("Short description").fill(title);
    await form.getByLabel("Caller", { exact: true }).selectOption({ label: "An agent" });
    await form.getByLabel("Caller agent").selectOption({ label: "Ada" });
    const everyone = await options(form, "Assigned to");
    await form.getByLabel("Assignment group").selectOption({ label: "Service Desk" });
    const members = await options(form, "Assigned to");
    await form.getByLabel("Assigned to").selectOption({ label: "Sol" });

    // Agents by level, then name.
    expect(everyone).toEqual(["Unassigned", "Ada", "Lee", "Sky", "Sol"]);
    expect(members).toEqual(["Unassigned", "Lee", "Sol"]);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await truncatedFilters(page)).toEqual([]);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, `ticket-new-${name}`);

    const shown = await created(page, title);
    expect(shown["Caller"]).toBe("Ada (agent)");
    expect(shown["Assignment group"]).toBe("Service Desk");
    expect(shown["Assigned to"]).toBe("Sol");
    expect(await page.locator(".facts .actor").first().getAttribute("title")).toBe(agents.Ada);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("opens a change with its risk and planned window, and a problem as a known error for a person", async () => {
    const { page, errors } = await browser.page(viewport);
    await signIn(page, platform.url, tenant.key);
    let form = await newTicketForm(page);
    const change = `Replace the core switch (${name})`;

    await form.getByLabel("Type").selectOption("change");
    await form.getByLabel("Short description").fill(change);
    await form.getByLabel("Risk").selectOption("high");
    await form.getByLabel("Planned start").fill("2026-12-05T22:00");
    await form.getByLabel("Planned end").fill("2026-12-05T21:00");
    const refused = await form.getByRole("button", { name: "Create ticket" }).isDisabled();
    await form.getByLabel("Planned end").fill("2026-12-06T01:00");
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    const start = await page.evaluate(() => new Date(2026, 11, 5, 22, 0).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }));

    const changeFacts = await created(page, change);
    expect(refused).toBe(true);
    expect(changeFacts["Risk"]).toBe("High");
    expect(changeFacts["Planned start"]).toBe(start);
    expect(changeFacts["Planned end"]).not.toBe("—");

    form = await newTicketForm(page);
    const problem = `Switch firmware leaks memory (${name})`;
    await form.getByLabel("Type").selectOption("problem");
    await form.getByLabel("Short description").fill(problem);
    await form.getByLabel("Caller", { exact: true }).selectOption({ label: "A person" });
    await form.getByLabel("Caller's name or email").fill("Milton Waddams");
    await form.getByLabel("Root cause").fill("The firmware keeps every session");
    await form.getByLabel("Known error").check();
    const withoutWorkaround = await form.getByRole("button", { name: "Create ticket" }).isDisabled();
    await form.getByLabel("Workaround", { exact: true }).fill("Reboot the switch weekly");
    expect(await seriousViolations(page)).toEqual([]);

    const problemFacts = await created(page, problem);
    expect(withoutWorkaround).toBe(true);
    expect(problemFacts["Caller"]).toBe("Milton Waddams");
    expect(problemFacts["Known error"]).toBe("Known error");
    expect(problemFacts["Root cause"]).toBe("The firmware keeps every session");
    expect(problemFacts["Workaround"]).toBe("Reboot the switch weekly");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 90_000);

  it("edits and reassigns a ticket, assignees from the group's members; a concurrent change is said and reloaded", async () => {
    const title = `VPN drops (${name})`;
    const ticket = (
      await call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "incident", title, assignmentGroup: groups["Service Desk"], assignedTo: agents.Sol } })
    ).body;
    const { page, errors } = await browser.page(viewport);
    await signIn(page, platform.url, tenant.key);
    await page.goto(`${platform.url}/#/tickets/${ticket.number}`);
    await page.getByRole("heading", { name: `${ticket.number} · ${title}` }).waitFor();

    await page.getByRole("button", { name: "Edit" }).click();
    const editor = page.locator("#edit-ticket");
    await editor.getByLabel("Impact").selectOption("2");
    await editor.getByLabel("Urgency").selectOption("1");
    await editor.getByLabel("Assignment group").selectOption({ label: "Network" });
    const reassignable = await editor.getByLabel("Assigned to").locator("option").allTextContents();
    const cleared = await editor.getByLabel("Assigned to").inputValue();
    await editor.getByLabel("Assigned to").selectOption({ label: "Sky" });
    await editor.getByLabel("Short description").fill(`${title}, all day`);
    expect(await overflow(page)).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, `ticket-edit-${name}`);
    await editor.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("heading", { name: `${ticket.number} · ${title}, all day` }).waitFor();
    await page.getByRole("status").filter({ hasText: "saved" }).waitFor();

    const shown = await facts(page);
    expect(reassignable).toEqual(["Unassigned", "Sky"]);
    expect(cleared).toBe("");
    expect(shown["Assignment group"]).toBe("Network");
    expect(shown["Assigned to"]).toBe("Sky");
    expect(shown["Priority"]).toBe("2 High (impact 2, urgency 1)");
    // The history (reloaded after the save) names the groups.
    await page.locator(".history li").first().getByText("Assignment group: Service Desk → Network").waitFor();

    // Someone else changes the ticket while the editor is open: saving says so and shows their change.
    await page.getByRole("button", { name: "Edit" }).click();
    await editor.getByLabel("Short description").fill("My title");
    const other = await call(platform, `/tickets/${ticket.number}`, { method: "PATCH", key: tenant.key, body: { title: "Their title" } });
    expect(other.status).toBe(200);
    await editor.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Someone else changed" }).waitFor();
    await page.getByRole("heading", { name: `${ticket.number} · Their title` }).waitFor();

    expect(await editor.count()).toBe(0);
    await page.getByRole("button", { name: "Edit" }).click();
    expect(await editor.getByLabel("Short description").inputValue()).toBe("Their title");
    expect((await call(platform, `/tickets/${ticket.number}`, { key: tenant.key })).body.title).toBe("Their title");
    expect(await seriousViolations(page)).toEqual([]);
    // The 409 the console handled shows in the browser's console as a failed request.
    expect(unexpected(errors, [/409/])).toEqual([]);
    await page.close();
  }, 90_000);
});
