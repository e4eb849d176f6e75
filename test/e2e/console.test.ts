import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * The main console in Chromium against the whole local platform: sign-in, the hierarchy, chat streamed
 * over the WebSocket, the message log. The model is a fake OpenAI-compatible server, so replies name a
 * real model and tier.
 */
let platform: Platform;
let model: FakeOpenAI;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;
let ceo: string;
let manager: string;

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
  browser = await launch();
  tenant = await createTenant(platform, { name: "Acme Bank", industry: "finance", tier: "professional" });
  ceo = (await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Ada Lovelace", roleId: "ceo" } })).body.id;
  const vp = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Grace Hopper", roleId: "senior-manager", managerId: ceo } });
  manager = (await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Max Planck", roleId: "manager", managerId: vp.body.id } })).body.id;
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await model?.close();
});

describe("sign-in", () => {
  it("refuses a bad key with a clear message and keeps the user on the form", async () => {
    const { page, errors } = await browser.page();
    await page.goto(platform.url);

    await page.getByLabel("API key").fill(`ao_${tenant.org.id}_01aaaaaaaaaaaaaaaaaaaaaaaa_wrongsecret`);
    await page.getByRole("button", { name: "Sign in" }).click();
    const alert = page.getByRole("alert");

    await expect(alert.textContent()).resolves.toContain("This key was not accepted");
    expect(await page.getByLabel("API key").getAttribute("aria-invalid")).toBe("true");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "sign-in-error");
    // The refused call itself is the only console error: Chromium logs every 401 response.
    expect(unexpected(errors, [/status of 401/])).toEqual([]);
    await page.close();
  });

  it("keeps the key for the tab's session only", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);

    await page.reload();
    await page.getByRole("navigation", { name: "Main" }).waitFor();
    const stored = await page.evaluate(() => [sessionStorage.getItem("agentorg.key"), localStorage.length]);
    const other = await browser.page();
    await other.page.goto(platform.url);

    expect(stored).toEqual([tenant.key, 0]);
    await other.page.getByLabel("API key").waitFor();
    expect(unexpected(errors)).toEqual([]);
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem("agentorg.key"))).toBeNull();
    await page.close();
    await other.page.close();
  });
});

describe("agents and hierarchy", () => {
  it("creates an agent under a manager and shows it in the tree, with queued messages", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("list", { name: "Agent hierarchy" }).waitFor();

    await page.getByRole("button", { name: "New agent" }).click();
    await page.getByLabel("Name", { exact: true }).fill("Lise Meitner");
    await page.getByLabel("Role").selectOption("team-lead");
    await page.getByLabel("Manager").selectOption(manager);
    await page.getByRole("button", { name: "Create agent" }).click();
    const created = page.locator('li[data-agent="Max Planck"] li[data-agent="Lise Meitner"]');
    await created.waitFor();
    await page.getByRole("status").filter({ hasText: "Created Lise Meitner under Max Planck" }).waitFor();
    const newId = (await call(platform, "/agents", { key: tenant.key })).body.items.find((a: any) => a.name === "Lise Meitner").id;
    await call(platform, `/agents/${manager}/messages`, { method: "POST", key: tenant.key, body: { kind: "delegate", to: newId, body: "Draft the Q3 plan" } });
    await created.locator(".queued.some").filter({ hasText: "1 queued" }).waitFor();

    expect(await created.locator(".level-chip").textContent()).toBe("Team Lead");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "agents");
    await page.getByRole("button", { name: "Collapse Max Planck's reports" }).click();
    await created.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Expand Max Planck's reports" }).click();
    await created.waitFor();
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("edits, moves and deletes an agent, reassigning its reports", async () => {
    const { page, errors } = await browser.page();
    const lead = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Niels Bohr", roleId: "team-lead", managerId: manager } });
    await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Emmy Noether", roleId: "specialist", managerId: lead.body.id } });
    await signIn(page, platform.url, tenant.key);

    await page.getByRole("link", { name: "Niels Bohr" }).click();
    await page.getByRole("heading", { name: "Niels Bohr" }).waitFor();
    await page.getByLabel("Status").selectOption("paused");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.locator('li[data-agent="Niels Bohr"] .badge').filter({ hasText: "paused" }).waitFor();
    await page.getByRole("button", { name: "Delete agent" }).click();
    await page.getByLabel(/Reassign its 1 report/).selectOption(manager);
    await page.getByRole("button", { name: "Confirm: delete Niels Bohr" }).click();
    await page.getByRole("status").filter({ hasText: "Deleted Niels Bohr; its reports now report to Max Planck" }).waitFor();

    await page.locator('li[data-agent="Niels Bohr"]').waitFor({ state: "detached" });
    await page.locator('li[data-agent="Max Planck"] > ul > li[data-agent="Emmy Noether"]').waitFor();
    await page.getByRole("link", { name: "Emmy Noether" }).click();
    await page.getByRole("heading", { name: "Emmy Noether" }).waitFor();
    await page.locator(".facts").filter({ hasText: "ManagerMax Planck" }).waitFor();
    await page.getByLabel("New manager").selectOption({ label: "Grace Hopper (Senior Manager)" });
    await page.getByRole("button", { name: "Move agent" }).click();
    await page.getByRole("status").filter({ hasText: "Moved Emmy Noether under Grace Hopper" }).waitFor();

    await page.locator('li[data-agent="Grace Hopper"] > ul > li[data-agent="Emmy Noether"]').waitFor();
    expect(await page.locator('li[data-agent="Max Planck"] li[data-agent="Emmy Noether"]').count()).toBe(0);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});

describe("chat", () => {
  it("streams an agent's reply over the WebSocket and shows the model and tier", async () => {
    const { page, errors } = await browser.page();
    model.script({ chunks: ["Our ", "plan ", "for ", "Q3 ", "is ", "to ", "grow ", "deposits."], chunkDelayMs: 120 });
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Chat" }).click();
    await page.getByRole("link", { name: /Max Planck/ }).click();
    await page.getByRole("heading", { name: "Max Planck" }).waitFor();
    await page.locator(".live.live").waitFor();

    await page.getByLabel("Message to Max Planck").fill("What is the plan for Q3?");
    await page.getByRole("button", { name: "Send" }).click();
    const reply = page.locator(".bubble.agent").last();
    // Mid-stream: part of the reply is on screen while the log is busy.
    await page.locator('.transcript[aria-busy="true"] .bubble.agent .bubble-text').filter({ hasText: "Our plan" }).waitFor();
    const partial = await reply.locator(".bubble-text").textContent();
    await reply.locator(".model-line").waitFor();

    expect(partial!.replace("▍", "").length).toBeLessThan("Our plan for Q3 is to grow deposits.".length);
    expect(await reply.locator(".bubble-text").textContent()).toBe("Our plan for Q3 is to grow deposits.");
    expect(await reply.locator(".model-line").textContent()).toMatch(/(SLM|LLM)\s*(llama-3\.2-3b|gpt-4o)/);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "chat");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("talks on the organization channel, answered by the root agent", async () => {
    const { page, errors } = await browser.page();
    model.script("Welcome to Acme Bank, everyone.");
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Chat" }).click();
    await page.getByRole("heading", { name: "Organization channel" }).waitFor();

    await page.getByLabel("Message to Organization channel").fill("Hello all");
    await page.keyboard.press("Enter");
    const reply = page.locator(".bubble.agent").last();
    await reply.locator(".model-line").waitFor();

    expect(await reply.locator(".bubble-who").textContent()).toBe("Ada Lovelace");
    expect(await reply.locator(".bubble-text").textContent()).toBe("Welcome to Acme Bank, everyone.");
    expect(await page.locator(".bubble").count()).toBe(2);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});

describe("message log", () => {
  it("lists messages between agents and shows new ones live", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Messages" }).click();
    await page.getByRole("region", { name: "Message log" }).waitFor();

    await call(platform, `/agents/${ceo}/messages`, { method: "POST", key: tenant.key, body: { kind: "delegate", to: manager, subject: "Budget", body: "Cut cloud costs by 10%" } });
    const row = page.getByRole("row").filter({ hasText: "Cut cloud costs by 10%" });
    await row.waitFor();

    expect(await row.textContent()).toContain("Ada Lovelace");
    expect(await row.textContent()).toContain("via Grace Hopper");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "messages");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});

describe("phone width", () => {
  it("lays the console out for a 390 px screen without horizontal scrolling", async () => {
    const { page, errors } = await browser.page(PHONE);
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("list", { name: "Agent hierarchy" }).waitFor();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

    expect(overflow).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "agents-phone");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
