import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, startTestPlatform } from "../support/platform";

let platform: Platform;
beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(async () => {
  await platform?.stop();
});

/** Every error answer: problem+json, a stable code, the request id, and nothing internal. */
function expectProblem(result: { status: number; headers: Headers; body: any; text: string }, status: number, code: string) {
  expect(result.status).toBe(status);
  expect(result.headers.get("content-type")).toBe("application/problem+json");
  expect(result.body).toMatchObject({ status, code, type: `urn:agentorg:problem:${code}` });
  expect(result.body.requestId).toBe(result.headers.get("x-request-id"));
  expect(result.text).not.toMatch(/ at .*\.ts:\d+|node_modules|stack/);
}

describe("errors are application/problem+json", () => {
  it("names every offending field of an invalid body", async () => {
    const result = await call(platform, "/organizations", {
      method: "POST",
      key: platform.operatorKey,
      body: { name: "", tier: "gold", industry: 7, extra: true },
    });

    expectProblem(result, 400, "validation_failed");
    const fields = result.body.errors.map((e: { field: string }) => e.field).sort();
    expect(fields).toEqual(["extra", "industry", "name", "tier"]);
    expect(result.body.errors.every((e: { in: string }) => e.in === "body")).toBe(true);
  });

  it("rejects an empty PATCH naming the problem", async () => {
    const created = await call(platform, "/organizations", { method: "POST", key: platform.operatorKey, body: { name: "X" } });

    const result = await call(platform, `/organizations/${created.body.id}`, { method: "PATCH", key: platform.operatorKey, body: {} });

    expectProblem(result, 400, "validation_failed");
  });

  it("answers malformed JSON with 400", async () => {
    const result = await call(platform, "/organizations", { method: "POST", key: platform.operatorKey, raw: '{"name": "x",' });

    expectProblem(result, 400, "malformed_json");
  });

  it("answers a body over 256 KiB with 413", async () => {
    const result = await call(platform, "/organizations", {
      method: "POST",
      key: platform.operatorKey,
      raw: JSON.stringify({ name: "x".repeat(256 * 1024) }),
    });

    expectProblem(result, 413, "payload_too_large");
  });

  it("answers a non-JSON content type with 415", async () => {
    const result = await call(platform, "/organizations", {
      method: "POST",
      key: platform.operatorKey,
      raw: "name=x",
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });

    expectProblem(result, 415, "unsupported_media_type");
  });

  it("answers an unknown route with 404 and a wrong method with 405 and Allow", async () => {
    const unknown = await call(platform, "/nothing-here", { key: platform.operatorKey });
    const wrongMethod = await call(platform, "/organizations", { method: "PUT", key: platform.operatorKey, body: {} });

    expectProblem(unknown, 404, "route_not_found");
    expectProblem(wrongMethod, 405, "method_not_allowed");
    expect(wrongMethod.headers.get("allow")).toBe("POST, GET");
  });

  it("answers a missing or bad key with 401 and WWW-Authenticate", async () => {
    const missing = await call(platform, "/organizations");
    const bad = await call(platform, "/organizations", { key: "not-a-key" });
    const wellFormedUnknown = await call(platform, "/organizations", {
      key: `ao_01jaaaaaaaaaaaaaaaaaaaaaaa_01jbbbbbbbbbbbbbbbbbbbbbbb_${"0".repeat(64)}`,
    });

    expectProblem(missing, 401, "unauthorized");
    expectProblem(bad, 401, "invalid_api_key");
    expectProblem(wellFormedUnknown, 401, "invalid_api_key");
    expect(missing.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });

  it("answers an id that cannot exist with 404", async () => {
    const result = await call(platform, "/organizations/not-an-id", { key: platform.operatorKey });

    expectProblem(result, 404, "not_found");
  });

  it("answers a bad query parameter with 400 naming it", async () => {
    const result = await call(platform, "/organizations?limit=0", { key: platform.operatorKey });

    expectProblem(result, 400, "validation_failed");
    expect(result.body.errors).toEqual([expect.objectContaining({ field: "limit", in: "query" })]);
  });

  it("puts a request id on successful responses too", async () => {
    const result = await call(platform, "/health");

    expect(result.status).toBe(200);
    expect(result.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("reports each dependency on /health with its status and latency", async () => {
    const result = await call(platform, "/health");

    expect(result.status).toBe(200);
    expect(result.body.status).toBe("ok");
    expect(result.body.dependencies.map((d: { name: string }) => d.name).sort()).toEqual(["dynamodb", "dynamodb-local", "stream-poller"]);
    for (const dependency of result.body.dependencies) {
      expect(dependency).toMatchObject({ status: "up", latencyMs: expect.any(Number) });
    }
    expect(result.body.dependencies.find((d: { name: string }) => d.name === "dynamodb-local").info).toMatchObject({ state: "up", pid: platform.dynamoDb.pid, restarts: 0 });
  });
});
