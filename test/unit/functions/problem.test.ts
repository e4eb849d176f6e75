import { describe, expect, it } from "vitest";
import { conflict, quotaExceeded } from "../../../core/errors";
import { problemOf, problemResponse } from "../../../functions/lib/problem";

describe("problem details", () => {
  it("maps a domain error to its status and keeps its details", () => {
    const problem = problemOf(conflict("Busy.", "chain_conflict", { expected: 3 }), "req-1", "/x");

    expect(problem).toEqual({
      type: "urn:agentorg:problem:chain_conflict",
      title: "Conflict",
      status: 409,
      code: "chain_conflict",
      detail: "Busy.",
      instance: "/x",
      requestId: "req-1",
      expected: 3,
    });
  });

  it("hides everything about an unexpected error", () => {
    const error = new Error("password=hunter2 at db.ts:12");

    const response = problemResponse(error, "req-2");

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain("hunter2");
    expect(JSON.parse(response.body as string)).toMatchObject({ code: "internal_error", requestId: "req-2" });
  });

  it("sets Retry-After for quota errors that say when they reset", () => {
    const resetsAt = new Date(Date.now() + 3_600_000).toISOString();

    const response = problemResponse(quotaExceeded("Over.", "agent_quota_exceeded", { resetsAt }), "req-3");

    expect(response.statusCode).toBe(429);
    expect(Number(response.headers!["retry-after"])).toBeGreaterThan(3500);
  });
});
