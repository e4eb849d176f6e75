import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { httpRoutes } from "../../functions/routes";
import { call, startTestPlatform } from "../support/platform";

/**
 * Invariant: a caller without valid credentials learns nothing about a protected route: not its
 * schema (no 400 with field lists), not whether an id could exist (no 404), not its body limits (no
 * 413/415). Every protected route of the manifest answers 401 before anything else is looked at.
 */
let platform: Platform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

const protectedRoutes = httpRoutes.filter((r) => r.auth !== "public");
/** Path parameters that cannot be ids, a query that cannot validate, a body that is not JSON. */
const hostilePath = (path: string) => path.replace(/\{\w+\}/g, "not-an-id").replace("/api/v1", "");

describe("authentication comes first", () => {
  it.each(protectedRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))(
    "%s without a key answers 401 whatever the request holds",
    async (_name, route) => {
      const path = `${hostilePath(route.path)}?limit=-5&cursor=%7B&type=nonsense`;

      const withBody = route.method !== "GET" && route.method !== "DELETE";
      const noKey = await call(platform, path, { method: route.method, ...(withBody ? { raw: "{not json", headers: { "content-type": "application/json" } } : {}) });
      const badKey = await call(platform, path, {
        method: route.method,
        key: "ao_forged",
        ...(withBody ? { raw: "x".repeat(300 * 1024), headers: { "content-type": "text/plain" } } : {}),
      });

      for (const result of [noKey, badKey]) {
        expect(result.status).toBe(401);
        expect(result.headers.get("content-type")).toBe("application/problem+json");
        expect(result.body.errors).toBeUndefined();
      }
    },
  );

  it("a wrong operator key on an operator route is 401, before the body is read", async () => {
    const wrong = platform.operatorKey.slice(0, -1) + (platform.operatorKey.endsWith("0") ? "1" : "0");

    const result = await call(platform, "/organizations", { method: "POST", key: wrong, raw: "{" });

    expect(result.status).toBe(401);
  });
});
