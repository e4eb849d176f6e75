import { describe, expect, it } from "vitest";
import { createServer } from "node:net";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../../core/db/client";
import { conflict, invalidInput, quotaExceeded, rateLimited } from "../../../core/errors";
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

  describe("a dependency that is down (defect 8)", () => {
    /** A real SDK error: the document client against a port nothing listens on. */
    async function refusedError(): Promise<unknown> {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const port = (server.address() as { port: number }).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const client = createDocumentClient({ endpoint: `http://127.0.0.1:${port}`, region: "us-east-1" });
      try {
        await client.send(new GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } }));
      } catch (error) {
        return error;
      } finally {
        client.destroy();
      }
      throw new Error("the request to a closed port succeeded");
    }

    it("answers 503 with Retry-After when the database refuses connections, not 500", async () => {
      const response = problemResponse(await refusedError(), "req-4", "/api/v1/tickets");

      expect(response.statusCode).toBe(503);
      expect(response.headers!["retry-after"]).toBe("2");
      expect(response.headers!["content-type"]).toBe("application/problem+json");
      expect(JSON.parse(response.body as string)).toMatchObject({ code: "service_unavailable", status: 503, requestId: "req-4" });
      expect(response.body).not.toContain("127.0.0.1");
    });

    it("fails fast: the client gives up on a silent database within its bounded timeouts", async () => {
      // A listener that accepts connections and never answers: a database that hangs.
      const server = createServer(() => undefined);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      // The production settings with a shorter socket timeout, so the test waits 3 x 300 ms, not 3 x 5 s.
      const client = createDocumentClient({ endpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}`, region: "us-east-1", timeouts: { requestTimeoutMs: 300 } });

      const error = await client.send(new GetCommand({ TableName: "t", Key: { pk: "a", sk: "b" } })).catch((e: unknown) => e);
      client.destroy();
      server.close();

      expect(problemOf(error, "req-5")).toMatchObject({ status: 503, code: "service_unavailable" });
    }, 30_000);

    it("answers 503 for throttling and DynamoDB 5xx, and keeps 500 for a request DynamoDB rejects", () => {
      // Hand-made SDK-shaped errors: DynamoDB Local never throttles nor fails with a 5xx.
      const throttled = Object.assign(new Error("Rate exceeded"), { name: "ProvisionedThroughputExceededException", $metadata: { httpStatusCode: 400 } });
      const server = Object.assign(new Error("Internal"), { name: "InternalServerError", $metadata: { httpStatusCode: 500 } });
      const cancelled = Object.assign(new Error("cancelled"), { name: "TransactionCanceledException", CancellationReasons: [{ Code: "None" }, { Code: "ThrottlingError" }] });
      const invalid = Object.assign(new Error("One or more parameter values were invalid"), { name: "ValidationException", $metadata: { httpStatusCode: 400 } });

      expect(problemResponse(throttled, "r").statusCode).toBe(503);
      expect(problemResponse(throttled, "r").headers!["retry-after"]).toBe("1");
      expect(problemResponse(server, "r").statusCode).toBe(503);
      expect(problemResponse(cancelled, "r").statusCode).toBe(503);
      expect(problemResponse(invalid, "r").statusCode).toBe(500);
    });
  });
});

describe("OpenAI's error object (OpenAI-compatible routes)", () => {
  const openai = (error: unknown) => JSON.parse(problemResponse(error, "req-1", "/api/v1/chat/completions", { openai: true }).body as string).error;

  it("types a rate limit by its policy: tokens a minute are `tokens`, the rest `requests`", () => {
    const limited = (policy: string) => rateLimited("Rate limit exceeded.", { retryAfterSeconds: 3, policy });

    expect(openai(limited("chat-tokens"))).toEqual({ message: "Rate limit exceeded.", type: "tokens", param: null, code: "rate_limit_exceeded" });
    expect(openai(limited("chat-requests"))).toMatchObject({ type: "requests" });
  });

  it("keeps our code where OpenAI has none, with the type of its status", () => {
    expect(openai(conflict("Busy.", "chain_conflict"))).toEqual({ message: "Busy.", type: "invalid_request_error", param: null, code: "chain_conflict" });
    expect(openai(new Error("boom"))).toMatchObject({ type: "server_error", code: "internal_error" });
    expect(openai(quotaExceeded("Spent.", "budget_exceeded", {}))).toMatchObject({ type: "insufficient_quota", code: "insufficient_quota" });
  });

  it("names the first offending field as param, not a root-level issue", () => {
    expect(openai(invalidInput("Bad.", [{ field: "(root)", message: "x" }, { field: "messages.0.role", message: "y" }]))).toMatchObject({ param: "messages.0.role" });
  });

  it("is absent from other routes' problems", () => {
    expect(JSON.parse(problemResponse(conflict("Busy."), "req-1").body as string).error).toBeUndefined();
  });
});
