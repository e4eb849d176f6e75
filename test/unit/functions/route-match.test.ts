import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { createRouteMatcher } from "../../../functions/lib/route-match";
import { ROUTE_TABLE } from "../../../functions/manifest/route-table";
import { httpRoutes } from "../../../functions/routes";
import { ROUTE_TABLE_FILE, routeTableSource } from "../../../tools/route-table";

const { match: matchRoute, allowedMethods } = createRouteMatcher(httpRoutes);

describe("route matching (as API Gateway matches the manifest)", () => {
  it("matches a parameterised path and decodes its parameters", () => {
    const match = matchRoute("DELETE", "/api/v1/organizations/abc/api-keys/k%201");

    expect(match?.route.handler).toBe("functions/http/api-keys.revoke");
    expect(match?.params).toEqual({ id: "abc", keyId: "k 1" });
  });

  it("does not let a parameter span segments", () => {
    expect(matchRoute("GET", "/api/v1/organizations/a/b")).toBeUndefined();
  });

  it("lists the methods of a path for 405 answers", () => {
    expect(allowedMethods("/api/v1/organizations/x").sort()).toEqual(["DELETE", "GET", "PATCH"]);
    expect(allowedMethods("/api/v1/nothing")).toEqual([]);
  });

  it("has no two routes with the same method and path, and every handler names a file and export", () => {
    const keys = httpRoutes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const route of httpRoutes) expect(route.handler).toMatch(/^functions\/http\/[a-z-]+\.[a-zA-Z]+$/);
  });

  it("has a route table for the $default function that is the manifest's (else: npm run routes:table)", () => {
    expect(readFileSync(ROUTE_TABLE_FILE, "utf8")).toBe(routeTableSource());
    expect(ROUTE_TABLE.map((r) => `${r.method} ${r.path}`)).toEqual(httpRoutes.map((r) => `${r.method} ${r.path}`));
  });
});
