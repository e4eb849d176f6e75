import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Page } from "playwright-core";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * Cost charts in Chromium: a model has the same colour on the organization's and the operator's view
 * (one palette keyed by model id), and the time axis never repeats a label (it used to show one point
 * per query, labelled to the second, so queries in the same second repeated it).
 */
let platform: Platform;
let model: FakeOpenAI;
let browser: Browser;
let tenant: Awaited<ReturnType<typeof createTenant>>;

const HARD = "Prove that the square root of 2 is irrational, then derive a closed form for the Fibonacci sequence using generating functions, and analyse the asymptotic complexity of computing it with matrix exponentiation.";

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
  browser = await launch();
  tenant = await createTenant(platform, { name: "Initech", tier: "basic" });
  // Several queries within the same few seconds: the old axis labelled each to the second and repeated labels.
  for (const content of ["hello", "What time is it?", HARD, "thanks", HARD, "ok"]) {
    await call(platform, "/chat/completions", { method: "POST", key: tenant.key, body: { model: "auto", messages: [{ role: "user", content }] } });
  }
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
  await model?.close();
});

/** The model legend under a chart: model id -> swatch colour. */
async function modelColors(page: Page): Promise<Record<string, string>> {
  await page.getByText("Queries per model: the numbers").click();
  const rows = page.getByRole("region", { name: "Queries per model" }).locator("tbody tr");
  await rows.first().waitFor();
  return Object.fromEntries(
    await rows.evaluateAll((trs) => trs.map((tr) => [tr.querySelector("td")!.textContent!.trim(), tr.querySelector(".swatch")!.getAttribute("data-color")!])),
  );
}

describe("cost charts", () => {
  it("colours each model the same on the organization's and the operator's view", async () => {
    const org = await browser.page();
    await signIn(org.page, platform.url, tenant.key);
    await org.page.goto(`${platform.url}/#/cost`);
    const orgColors = await modelColors(org.page);
    const operator = await browser.page(PHONE);
    await signIn(operator.page, platform.url, platform.operatorKey);
    await operator.page.goto(`${platform.url}/#/cost`);
    const operatorColors = await modelColors(operator.page);

    expect(Object.keys(orgColors).length).toBeGreaterThan(1);
    expect(operatorColors).toEqual(orgColors);
    expect(new Set(Object.values(orgColors)).size).toBe(Object.keys(orgColors).length);
    expect(await seriousViolations(org.page)).toEqual([]);
    expect(await seriousViolations(operator.page)).toEqual([]);
    expect(unexpected(org.errors)).toEqual([]);
    expect(unexpected(operator.errors)).toEqual([]);
    await org.page.close();
    await operator.page.close();
  }, 90_000);

  it("labels each time interval once on both time charts", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, tenant.key);
    await page.goto(`${platform.url}/#/cost`);
    await page.locator("#chart-cost").waitFor();
    const labels = async (caption: string) => {
      await page.getByText(`${caption}: the numbers`).click();
      return page.getByRole("region", { name: caption }).locator("tbody tr td:first-child").allTextContents();
    };

    const share = await labels("Queries over time");
    const cumulative = await labels("Cumulative cost");

    expect(share.length).toBeGreaterThan(0);
    expect(new Set(share).size).toBe(share.length);
    expect(cumulative).toEqual(["Start", ...share]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
