import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { Page } from "playwright-core";
import { createApprovalStore } from "../../core/db/approval.repository";
import { newId } from "../../core/ids";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { launch, PHONE, screenshot, seriousViolations, signIn, unexpected, type Browser } from "./support/browser";

/**
 * The Approvals view in Chromium: a person sees the agents' held tool calls, approves one (the change
 * gets scheduled by the change manager's deferred call) and rejects one with a reason, at 1440 px and
 * at 390 px, axe clean. The requests are stored through the approval repository, as the runtime's gate
 * stores them (a model conversation would only be the way they got there).
 */
let platform: Platform;
let browser: Browser;
let db: DynamoDBDocumentClient;
let tenant: Awaited<ReturnType<typeof createTenant>>;
const WIDE = { width: 1440, height: 900 };
const changes: { id: string; number: string }[] = [];

beforeAll(async () => {
  platform = await startTestPlatform();
  browser = await launch();
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
  tenant = await createTenant(platform, { name: "Umbrella Operations", tier: "professional" });
  const ceo = (await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Ada Lovelace", roleId: "ceo" } })).body.id as string;
  const cm = (await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Carl Change", roleId: "change-manager", managerId: ceo } })).body.id as string;
  const store = createApprovalStore({ client: db, table: platform.tableName });
  for (const title of ["Upgrade the payroll database to version 16", "Rotate the VPN gateway certificates"]) {
    const change = (await call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "change", title, changeType: "normal" } })).body as { id: string; number: string };
    for (const to of ["assess", "authorize"]) await call(platform, `/tickets/${change.id}/transitions`, { method: "POST", key: tenant.key, body: { to } });
    changes.push(change);
    const now = new Date();
    await store.create({
      id: newId(),
      orgId: tenant.org.id,
      kind: "tool_call",
      requestedBy: cm,
      requestedByName: "Carl Change",
      summary: `Carl Change wants to move ${change.number} to scheduled: Saturday 22:00-23:00.`,
      action: { tool: "transition_ticket", arguments: { ticket: change.number, to: "scheduled", note: "Saturday 22:00-23:00" }, rule: "transition_ticket:scheduled" },
      status: "pending",
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
    });
  }
});

afterAll(async () => {
  db?.destroy();
  await browser?.close();
  await platform?.stop();
});

async function open(page: Page) {
  await signIn(page, platform.url, tenant.key);
  await page.goto(`${platform.url}/#/approvals`);
  await page.getByRole("heading", { name: "Approvals" }).waitFor();
}

const sideways = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - innerWidth);

describe("approvals view", () => {
  it("approves a held change at 1440 px: the change manager's call runs and the request moves to Decided", async () => {
    const { page, errors } = await browser.page(WIDE);
    await open(page);
    const [first] = changes;
    await page.getByRole("region", { name: "Pending approvals" }).waitFor();
    expect(await page.getByRole("link", { name: "Approvals" }).getAttribute("aria-current")).toBe("page");
    expect(await seriousViolations(page)).toEqual([]);

    await page.getByRole("button", { name: `Approve: Carl Change wants to move ${first!.number} to scheduled: Saturday 22:00-23:00.` }).click();
    await page.getByText("Approved. The action ran.").waitFor();
    const decided = page.getByRole("region", { name: "Decided approvals" });
    await decided.getByText("approved", { exact: true }).waitFor();
    await screenshot(page, "approvals-wide");

    expect((await call(platform, `/tickets/${first!.id}`, { key: tenant.key })).body.state).toBe("scheduled");
    expect(await decided.getByText(`Ran: ${first!.number} is now scheduled`).count()).toBe(1);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);

  it("rejects a held change with a reason at 390 px: nothing runs", async () => {
    const { page, errors } = await browser.page(PHONE);
    await open(page);
    const second = changes[1]!;
    await page.getByRole("button", { name: `Reject: Carl Change wants to move ${second.number} to scheduled: Saturday 22:00-23:00.` }).click();
    await page.getByLabel("Reason").fill("Change freeze until Monday");
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByRole("button", { name: "Reject", exact: true }).click();
    await page.getByText("Rejected: nothing ran").waitFor();
    const decided = page.getByRole("region", { name: "Decided approvals" });
    await decided.getByText("Change freeze until Monday").waitFor();
    await screenshot(page, "approvals-phone");

    expect((await call(platform, `/tickets/${second.id}`, { key: tenant.key })).body.state).toBe("authorize");
    expect(await page.getByText("Nothing waits for approval.").count()).toBe(1);
    expect(await sideways(page)).toBeLessThanOrEqual(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(unexpected(errors)).toEqual([]);
    await page.close();
  }, 60_000);
});
