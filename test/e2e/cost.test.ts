import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/** Cost analytics in Chromium: totals, charts, tips from the data, and live updates as queries happen. */
let platform: Platform;
let model: FakeOpenAI;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;

const HARD = "Prove that the square root of 2 is irrational, then derive a closed form for the Fibonacci sequence using generating functions, and analyse the asymptotic complexity of computing it with matrix exponentiation.";

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
  browser = await launch();
  tenant = await createTenant(platform, { name: "Initech", industry: "retail", tier: "basic" });
  const ceo = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Bill Lumbergh", roleId: "ceo" } });
  await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Milton", roleId: "specialist", managerId: ceo.body.id } });
  // The CEO's role pins the LLM: easy questions to it are what the tips should point at.
  const token = await call(platform, "/ws-tokens", { method: "POST", key: tenant.key });
  const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);
  for (const message of ["hi", "thanks", "ok, see you"]) {
    socket.send({ action: "chat", agentId: ceo.body.id, message });
    await socket.next("chat.done");
  }
  socket.close();
  for (const content of ["What time is it?", "hello", HARD]) {
    await call(platform, "/chat/completions", { method: "POST", key: tenant.key, body: { model: "auto", messages: [{ role: "user", content }] } });
  }
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await model?.close();
});

const kpi = (label: string) => `.kpi:has(.kpi-label:text-is("${label}")) .kpi-value`;

describe("cost analytics", () => {
  it("shows SLM and LLM usage, cost against all-LLM, models, budget and tips", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Cost" }).click();
    await page.locator("#chart-share").waitFor();

    const usage = (await call(platform, `/organizations/${tenant.org.id}/usage`, { key: tenant.key })).body;
    expect(await page.locator(kpi("Queries")).textContent()).toBe(String(usage.queries.total));
    expect(usage.queries.slm).toBeGreaterThan(0);
    expect(usage.queries.llm).toBeGreaterThan(0);
    expect(await page.locator("#chart-cost").getAttribute("aria-label")).toContain("all-LLM baseline");
    expect(await page.locator("#chart-models").getAttribute("aria-label")).toContain("gpt-4o");
    expect(await page.getByRole("meter", { name: "Model spend this month" }).getAttribute("aria-valuemax")).toBe("50");
    const tips = await page.locator(".tips").textContent();
    expect(tips).toContain("Bill Lumbergh sent 3 of 3 queries to the LLM although they scored below the routing threshold");
    expect(tips).toContain("Projected month-end model spend");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "cost");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("updates live as queries happen", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Cost" }).click();
    await page.locator("#chart-share").waitFor();
    await page.locator(".live.live").waitFor();
    const before = Number(await page.locator(kpi("Queries")).textContent());
    const cost = await page.locator(kpi("Model cost")).textContent();

    await call(platform, "/chat/completions", { method: "POST", key: tenant.key, body: { model: "auto", messages: [{ role: "user", content: HARD }] } });
    await call(platform, "/chat/completions", { method: "POST", key: tenant.key, body: { model: "auto", messages: [{ role: "user", content: "hey" }] } });
    await page.getByText("2 new queries live").waitFor();
    await page.locator(kpi("Queries")).filter({ hasText: String(before + 2) }).waitFor();

    expect(await page.locator(kpi("Model cost")).textContent()).not.toBe(cost);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("saves routing settings", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Cost" }).click();
    await page.getByRole("form", { name: "Routing settings" }).waitFor();

    await page.getByLabel("Policy").selectOption("qualityFloor");
    await page.getByLabel("Value").fill("0.8");
    await page.getByRole("button", { name: "Save routing settings" }).click();
    await page.getByRole("status").filter({ hasText: "Routing settings saved" }).waitFor();

    expect((await call(platform, "/routing/settings", { key: tenant.key })).body.calibration).toEqual({ qualityFloor: 0.8 });
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("works on a phone-width screen", async () => {
    const { page, errors } = await browser.page(PHONE);
    await signIn(page, platform.url, tenant.key);
    await page.getByRole("link", { name: "Cost" }).click();
    await page.locator("#chart-share").waitFor();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

    expect(overflow).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "cost-phone");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
