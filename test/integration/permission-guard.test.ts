import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditRoutes } from "../../functions/manifest/audit";
import { ticketRoutes } from "../../functions/manifest/tickets";
import type { Permission } from "../../functions/manifest.types";
import { takeRefusals } from "../../local/permission-guard";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

/*
 * The local runtime holds every function to the permissions its route declares (local/permission-guard.ts):
 * a route declared with too few permissions is refused by DynamoDB's rules, here as after a deploy.
 */

let platform: Platform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

/** Runs `act` while the route declares `permissions` instead of its own. */
async function declared<T>(route: { permissions: Permission[] }, permissions: Permission[], act: () => Promise<T>): Promise<T> {
  const own = route.permissions;
  route.permissions = permissions;
  try {
    return await act();
  } finally {
    route.permissions = own;
  }
}

describe("local permission guard", () => {
  it("refuses the writes of a route declared read-only, naming the function, the action and the declared permissions", async () => {
    const tenant = await createTenant(platform);
    const route = ticketRoutes.createTicket as unknown as { permissions: Permission[] };

    const refused = await declared(route, ["table:read"], () =>
      call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "incident", title: "Printer jam" } }),
    );
    const refusals = takeRefusals();
    const allowed = await call(platform, "/tickets", { method: "POST", key: tenant.key, body: { type: "incident", title: "Printer jam" } });

    expect(refused.status).toBe(500);
    expect(refusals.length).toBeGreaterThan(0);
    expect(refusals[0]).toMatch(/local:function\/functions\/http\/tickets\.create is not authorized to perform: dynamodb:UpdateItem on resource: table\/agentorg-test/);
    expect(refusals[0]).toMatch(/\[table:read, table:rate-limits\]/);
    expect(allowed.status).toBe(201);
  });

  it("lets a read-only, rate-limited route update its callers' rate-limit buckets and nothing else", async () => {
    const tenant = await createTenant(platform);

    const listed = await call(platform, "/audit/entries", { key: tenant.key });

    // The route declares table:read only; its rate limiter's UpdateItem on T#<org>#RL#... passed the guard.
    expect(auditRoutes.auditEntries.permissions).toEqual(["table:read"]);
    expect(listed.status).toBe(200);
    expect(takeRefusals()).toEqual([]);
  });
});
