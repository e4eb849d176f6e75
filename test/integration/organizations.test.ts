import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

let platform: Platform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const op = () => platform.operatorKey;

describe("organizations", () => {
  it("creates an organization with quotas and price derived from its tier", async () => {
    const created = await call(platform, "/organizations", {
      method: "POST",
      key: op(),
      body: { name: "Acme Bank", industry: "finance", size: "large", tier: "professional" },
    });

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      name: "Acme Bank",
      industry: "finance",
      size: "large",
      tier: "professional",
      status: "active",
      quotas: { agents: 50, ticketsPerMonth: 1000 },
      basePriceUsd: 299,
    });
    expect(created.body.id).toMatch(/^[0-9a-z]{26}$/);
    expect(created.body.createdAt).toBe(created.body.updatedAt);
  });

  it("applies defaults for industry, size and tier", async () => {
    const created = await call(platform, "/organizations", { method: "POST", key: op(), body: { name: "Minimal" } });

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ industry: "other", size: "small", tier: "basic", quotas: { agents: 10, ticketsPerMonth: 100 } });
  });

  it("re-derives the quotas when the operator changes the tier", async () => {
    const { org } = await createTenant(platform, { tier: "basic" });

    const updated = await call(platform, `/organizations/${org.id}`, { method: "PATCH", key: op(), body: { tier: "enterprise" } });

    expect(updated.status).toBe(200);
    expect(updated.body.quotas).toEqual({ agents: 500, ticketsPerMonth: 10000, modelBudgetUsd: 5000 });
    expect(updated.body.basePriceUsd).toBe(1499);
    const read = await call(platform, `/organizations/${org.id}`, { key: op() });
    expect(read.body.tier).toBe("enterprise");
  });

  it("lets an organization rename itself but not change its tier", async () => {
    const { org, key } = await createTenant(platform);

    const renamed = await call(platform, `/organizations/${org.id}`, { method: "PATCH", key, body: { name: "Renamed", size: "medium" } });
    const upgraded = await call(platform, `/organizations/${org.id}`, { method: "PATCH", key, body: { tier: "enterprise" } });

    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Renamed", size: "medium", tier: "basic" });
    expect(upgraded.status).toBe(403);
    expect(upgraded.body.code).toBe("tier_change_forbidden");
  });

  it("lists every organization for the operator, page by page, and only its own for a key", async () => {
    const a = await createTenant(platform, { name: "List A" });
    const b = await createTenant(platform, { name: "List B" });

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call(platform, `/organizations?limit=2${cursor ? `&cursor=${cursor}` : ""}`, { key: op() });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((o: { id: string }) => o.id));
      cursor = page.body.cursor;
    } while (cursor);
    const own = await call(platform, "/organizations", { key: a.key });

    expect(seen).toContain(a.org.id);
    expect(seen).toContain(b.org.id);
    expect(new Set(seen).size).toBe(seen.length);
    expect(own.body.items.map((o: { id: string }) => o.id)).toEqual([a.org.id]);
  });

  it("rejects a cursor it did not issue with 400", async () => {
    const forged = Buffer.from(JSON.stringify({ gsi1pk: "T#x", pk: "T#x", sk: "ORG", gsi1sk: "x" })).toString("base64url");

    const result = await call(platform, `/organizations?cursor=${forged}`, { key: op() });
    const garbage = await call(platform, `/organizations?cursor=@@@`, { key: op() });

    expect(result.status).toBe(400);
    expect(result.body.code).toBe("invalid_cursor");
    expect(garbage.status).toBe(400);
  });

  it("closes an organization: data kept, its keys stop working, closing again is harmless", async () => {
    const { org, key } = await createTenant(platform);

    const closed = await call(platform, `/organizations/${org.id}`, { method: "DELETE", key: op() });
    const again = await call(platform, `/organizations/${org.id}`, { method: "DELETE", key: op() });
    const withKey = await call(platform, `/organizations/${org.id}`, { key });
    const read = await call(platform, `/organizations/${org.id}`, { key: op() });

    expect(closed.status).toBe(200);
    expect(closed.body.status).toBe("closed");
    expect(again.body.closedAt).toBe(closed.body.closedAt);
    expect(withKey.status).toBe(401);
    expect(read.body).toMatchObject({ id: org.id, status: "closed", name: org.name });
  });

  it("does not let an organization close itself", async () => {
    const { org, key } = await createTenant(platform);

    const result = await call(platform, `/organizations/${org.id}`, { method: "DELETE", key });

    expect(result.status).toBe(403);
  });

  it("reports usage of the current period against the tier's quotas", async () => {
    const { org, key } = await createTenant(platform, { tier: "professional" });

    const usage = await call(platform, `/organizations/${org.id}/usage`, { key });

    expect(usage.status).toBe(200);
    expect(usage.body).toMatchObject({
      orgId: org.id,
      period: new Date().toISOString().slice(0, 7),
      agents: { used: 0, limit: 50 },
      tickets: { used: 0, limit: 1000 },
      modelSpendUsd: { used: 0, limit: 500 },
      bill: { basePriceUsd: 299, meteredUsd: 0, totalUsd: 299 },
    });
    expect(Date.parse(usage.body.resetsAt)).toBeGreaterThan(Date.now());
  });

  it("only lets the operator create organizations", async () => {
    const { key } = await createTenant(platform);

    const result = await call(platform, "/organizations", { method: "POST", key, body: { name: "Sneaky" } });

    expect(result.status).toBe(403);
    expect(result.body.code).toBe("operator_only");
  });
});

describe("API keys", () => {
  it("returns the secret once, lists keys without secrets, and revokes", async () => {
    const { org, key } = await createTenant(platform);

    const created = await call(platform, `/organizations/${org.id}/api-keys`, { method: "POST", key, body: { name: "deploy bot" } });
    const listed = await call(platform, `/organizations/${org.id}/api-keys`, { key });
    const works = await call(platform, `/organizations/${org.id}`, { key: created.body.secret });
    const revoked = await call(platform, `/organizations/${org.id}/api-keys/${created.body.id}`, { method: "DELETE", key });
    const refused = await call(platform, `/organizations/${org.id}`, { key: created.body.secret });

    expect(created.status).toBe(201);
    expect(created.body.secret).toMatch(new RegExp(`^ao_${org.id}_${created.body.id}_[0-9a-f]{64}$`));
    expect(listed.body.items).toHaveLength(2);
    expect(listed.text).not.toContain(created.body.secret);
    expect(listed.text).not.toContain("secretHash");
    expect(works.status).toBe(200);
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toBeTruthy();
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe("invalid_api_key");
  });

  it("refuses a key whose secret part was altered", async () => {
    const { org, key } = await createTenant(platform);
    const altered = key.slice(0, -1) + (key.endsWith("0") ? "1" : "0");

    const result = await call(platform, `/organizations/${org.id}`, { key: altered });

    expect(result.status).toBe(401);
  });

  it("revoking an unknown key is 404", async () => {
    const { org, key } = await createTenant(platform);

    const result = await call(platform, `/organizations/${org.id}/api-keys/01jzzzzzzzzzzzzzzzzzzzzzzz`, { method: "DELETE", key });

    expect(result.status).toBe(404);
  });
});
