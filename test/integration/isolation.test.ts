import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { httpRoutes } from "../../functions/routes";
import { call, createTenant, startTestPlatform } from "../support/platform";

let platform: Platform;
let a: Awaited<ReturnType<typeof createTenant>>;
let b: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await createTenant(platform, { name: "Tenant A" });
  b = await createTenant(platform, { name: "Tenant B" });
});
afterAll(async () => {
  await platform?.stop();
});

/** A plausible body for a route, so that validation passes and authorization is what is tested. */
const SAMPLE_BODIES: Record<string, unknown> = {
  "POST /api/v1/organizations/{id}/api-keys": { name: "probe" },
  "PATCH /api/v1/organizations/{id}": { name: "Hijacked" },
};

/** Every route of the manifest with path parameters, filled with org B's ids. */
const routesWithIds = httpRoutes.filter((r) => r.path.includes("{"));

describe("tenant isolation", () => {
  it("covers every route with ids (the list follows the manifest)", () => {
    expect(routesWithIds.length).toBeGreaterThanOrEqual(6);
    for (const route of routesWithIds) {
      if (route.body) expect(SAMPLE_BODIES, `add a sample body for ${route.method} ${route.path}`).toHaveProperty(`${route.method} ${route.path}`);
    }
  });

  it.each(routesWithIds.map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s with org A's key and org B's ids answers 404",
    async (name, route) => {
      const path = route.path
        .replace("/api/v1", "")
        .replace("{id}", b.org.id)
        .replace("{keyId}", b.keyId);

      const result = await call(platform, path, { method: route.method, key: a.key, body: SAMPLE_BODIES[name] });

      expect(result.status).toBe(404);
      expect(result.headers.get("content-type")).toBe("application/problem+json");
    },
  );

  it("leaves org B untouched after org A's attempts", async () => {
    const orgB = await call(platform, `/organizations/${b.org.id}`, { key: b.key });
    const keysB = await call(platform, `/organizations/${b.org.id}/api-keys`, { key: b.key });

    expect(orgB.body).toMatchObject({ name: "Tenant B", status: "active" });
    expect(keysB.body.items).toHaveLength(1);
    expect(keysB.body.items[0].revokedAt).toBeUndefined();
  });

  it("never lists another tenant", async () => {
    const listA = await call(platform, "/organizations?limit=100", { key: a.key });

    expect(listA.text).not.toContain(b.org.id);
  });

  it("cannot use org A's key id inside org B", async () => {
    const result = await call(platform, `/organizations/${a.org.id}/api-keys/${b.keyId}`, { method: "DELETE", key: a.key });

    expect(result.status).toBe(404);
  });
});
