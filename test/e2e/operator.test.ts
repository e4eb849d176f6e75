import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, eventually, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * The operator's dashboard in Chromium: every tenant with its usage, creating and editing organizations,
 * API keys shown once and revoked, all-tenant cost, any tenant's audit log; plus error and empty states.
 */
let platform: Platform;
let browser: Browser;
let existing: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  existing = await createTenant(platform, { name: "Umbrella Health", industry: "healthcare", size: "large", tier: "enterprise" });
  await call(platform, "/chat/completions", { method: "POST", key: existing.key, body: { model: "auto", messages: [{ role: "user", content: "hello" }] } });
});

afterAll(async () => {
  await browser?.close();
  await platform?.stop();
});

describe("organizations (operator)", () => {
  it("lists tenants with tier, industry and usage bars", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, platform.operatorKey);
    const card = page.locator(".org-card").filter({ hasText: "Umbrella Health" });
    await card.waitFor();

    expect(await page.locator(".identity").textContent()).toBe("Operator");
    expect(await card.textContent()).toContain("Enterprise");
    expect(await card.textContent()).toContain("Healthcare · Large");
    expect(await card.getByRole("meter", { name: "Agents" }).getAttribute("aria-valuemax")).toBe("500");
    expect(await card.getByRole("meter", { name: "Model spend" }).getAttribute("aria-valuetext")).toMatch(/^\$0\.0+\d+ of \$5,000\.00$/);
    expect(await page.getByRole("link", { name: "Tickets" }).count()).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "organizations");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("creates an organization, changes its tier and manages its API keys", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, platform.operatorKey);
    await page.getByRole("button", { name: "New organization" }).click();
    const form = page.getByRole("form", { name: "New organization" });
    await form.getByLabel("Name").fill("Stark Retail");
    await form.getByLabel("Industry").selectOption("retail");
    await form.getByLabel("Size").selectOption("medium");
    await form.getByLabel(/Professional/).check();
    await form.getByRole("button", { name: "Create organization" }).click();
    await page.getByRole("heading", { name: "Stark Retail", level: 1 }).waitFor();
    expect(await page.locator(".page-header").textContent()).toContain("Professional");

    await page.getByLabel(/Enterprise/).check();
    await page.getByRole("button", { name: "Save settings" }).click();
    await page.getByRole("status").filter({ hasText: "Saved Stark Retail." }).waitFor();
    await page.locator(".page-header .badge").filter({ hasText: "Enterprise" }).waitFor();
    await page.getByRole("meter", { name: "Agents" }).and(page.locator('[aria-valuemax="500"]')).waitFor();

    await page.getByLabel("New key name").fill("ci");
    await page.getByLabel(/Monthly budget of the new key/).fill("25");
    await page.getByRole("button", { name: "Create key" }).click();
    const secret = (await page.getByTestId("new-secret").textContent())!;
    expect(secret).toMatch(/^ao_[0-9a-z]{26}_[0-9a-z]{26}_/);
    expect(await page.getByText("Copy this key now: it is shown only once.").count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "organization-keys");
    await page.getByRole("button", { name: "Done" }).click();
    expect(await page.getByTestId("new-secret").count()).toBe(0);
    // The key's own monthly budget, with this month's spend against it.
    await page.getByRole("row").filter({ hasText: "ci" }).getByText("$0.00 of $25.00").waitFor();

    // The new key works: a fresh tab signs in with it and lands on an empty console.
    const tab = await browser.page();
    await signIn(tab.page, platform.url, secret);
    await tab.page.getByText("No agents yet.").waitFor();
    expect(await tab.page.locator(".identity").textContent()).toBe("Stark Retail");
    await tab.page.getByRole("link", { name: "Tickets" }).click();
    await tab.page.getByText("No open tickets.").waitFor();
    await tab.page.getByRole("link", { name: "Cost" }).click();
    await tab.page.getByText("No queries yet this period.").first().waitFor();
    expect(unexpected(tab.errors)).toEqual([]);
    await tab.page.close();

    await page.getByRole("button", { name: "Revoke ci" }).click();
    await page.getByRole("button", { name: "Confirm revoke" }).click();
    await page.getByRole("row").filter({ hasText: "ci" }).locator(".badge").filter({ hasText: "revoked" }).waitFor();
    expect((await call(platform, "/organizations", { key: secret })).status).toBe(401);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 80_000);

  it("shows an organization's rate limits, which the operator changes and resets and its own key only reads", async () => {
    const tenant = await createTenant(platform, { name: "Acme Limits", tier: "basic" });
    const limits = () => call(platform, `/organizations/${tenant.org.id}/rate-limits`, { key: platform.operatorKey }).then((r) => r.body);
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, platform.operatorKey);
    await page.goto(`${platform.url}/#/organizations/${tenant.org.id}`);
    const card = page.getByRole("region", { name: "Rate limits" });

    await card.getByLabel(/Each key: burst/).fill("7");
    await card.getByRole("button", { name: "Save limits" }).click();
    const changed = await eventually(async () => ((await limits()).override ? limits() : undefined));
    expect(await seriousViolations(page)).toEqual([]);
    await card.getByRole("button", { name: "Back to the tier's limits" }).click();
    const reset = await eventually(async () => {
      const current = await limits();
      return current.override === null ? current : undefined;
    });

    // Only values that differ from the tier's are sent: the rest keep following the tier.
    expect(changed.override).toEqual({ apiKey: { burst: 7 } });
    expect(reset.effective).toEqual(reset.defaults);
    const tab = await browser.page();
    await signIn(tab.page, platform.url, tenant.key);
    await tab.page.goto(`${platform.url}/#/organizations/${tenant.org.id}`);
    const readOnly = tab.page.getByRole("region", { name: "Rate limits" });
    await readOnly.locator("dd").first().waitFor();
    expect(await readOnly.locator("dt").allTextContents()).toContain("Each key: burst");
    expect(await readOnly.getByRole("button").count()).toBe(0);
    expect(await seriousViolations(tab.page)).toEqual([]);
    expect(unexpected(tab.errors)).toEqual([]);
    await tab.page.close();
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 80_000);

  it("shows an error with a retry when the API fails, and recovers", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, platform.operatorKey);
    await page.locator(".org-card").first().waitFor();
    await page.route("**/api/v1/organizations?*", (route) =>
      route.fulfill({ status: 503, contentType: "application/problem+json", body: JSON.stringify({ status: 503, code: "unavailable", detail: "The service is briefly unavailable." }) }),
    );

    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByRole("link", { name: "Organizations" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "The organizations could not be loaded." });
    await alert.waitFor();
    expect(await alert.textContent()).toContain("The service is briefly unavailable.");
    await page.unroute("**/api/v1/organizations?*");
    await alert.getByRole("button", { name: "Try again" }).click();
    await page.locator(".org-card").first().waitFor();

    expect(await page.getByRole("alert").count()).toBe(0);
    expect(unexpected(errors, [/status of 503/])).toEqual([]);
    await page.close();
  }, 60_000);
});

describe("cost and audit (operator)", () => {
  it("shows all tenants' routing totals and spend against budget", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, platform.operatorKey);
    await page.getByRole("link", { name: "Cost" }).click();
    await page.getByRole("heading", { name: "Cost analytics: all tenants" }).waitFor();
    await page.locator(".tenant-spend").first().waitFor();

    expect(await page.locator(".kpis").textContent()).toContain("Queries");
    expect(await page.getByRole("meter", { name: "Umbrella Health (enterprise)" }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "cost-operator");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("verifies any tenant's audit chain", async () => {
    const { page, errors } = await browser.page();
    await signIn(page, platform.url, platform.operatorKey);
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Organization").selectOption({ label: "Umbrella Health" });
    await page.getByRole("region", { name: "Audit entries" }).waitFor();

    await page.getByRole("button", { name: "Verify chain" }).click();
    await page.locator(".verdict.valid").waitFor();

    expect(await page.locator(".verdict").textContent()).toContain("The chain is intact");
    expect(await seriousViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("works on a phone-width screen", async () => {
    const { page, errors } = await browser.page(PHONE);
    await signIn(page, platform.url, platform.operatorKey);
    await page.locator(".org-card").first().waitFor();

    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

    expect(overflow).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "organizations-phone");
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
