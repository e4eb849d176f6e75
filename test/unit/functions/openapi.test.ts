import { describe, expect, it } from "vitest";
import { openApiDocument } from "../../../functions/lib/openapi";
import { agentRoutes } from "../../../functions/manifest/agents";
import { workRoutes } from "../../../functions/manifest/work";
import { auditRoutes } from "../../../functions/manifest/audit";
import { organizationRoutes } from "../../../functions/manifest/organizations";
import { platformRoutes } from "../../../functions/manifest/platform";
import { rateLimitRoutes } from "../../../functions/manifest/rate-limits";
import { routingRoutes } from "../../../functions/manifest/routing";
import { ticketRoutes } from "../../../functions/manifest/tickets";

type Operation = { operationId?: string; responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }> };

const document = openApiDocument() as unknown as { paths: Record<string, Record<string, Operation>> };
const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
const operation = (method: string, path: string) => document.paths[path]![method]!;
/** Every route of every domain's manifest, before they are gathered into one object (where a repeated name would silently replace a route). */
const domains = [platformRoutes, organizationRoutes, rateLimitRoutes, routingRoutes, ticketRoutes, agentRoutes, workRoutes, auditRoutes];

describe("the OpenAPI document", () => {
  it("gives every operation an operationId, unique across the document (one per manifest route)", () => {
    const ids = operations.map(({ op }) => op.operationId);
    const names = domains.flatMap((d) => Object.keys(d));

    expect(ids.every((id) => typeof id === "string" && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(names).size).toBe(names.length);
    expect(ids.length).toBe(names.length);
    expect(operation("post", "/api/v1/chat/completions").operationId).toBe("chatCompletions");
  });

  it("declares text/event-stream for the chat route and the export's own media type", () => {
    expect(Object.keys(operation("post", "/api/v1/chat/completions").responses["200"]!.content!)).toEqual(["application/json", "text/event-stream"]);
    expect(Object.keys(operation("get", "/api/v1/audit/export").responses["200"]!.content!)).toEqual(["application/x-ndjson"]);
  });

  it("documents the errors where they happen", () => {
    const statuses = (method: string, path: string) => Object.keys(operation(method, path).responses);

    expect(statuses("post", "/api/v1/chat/completions")).toEqual(expect.arrayContaining(["400", "401", "403", "404", "413", "415", "429", "502", "503", "504"]));
    expect(statuses("delete", "/api/v1/roles/{id}")).toEqual(expect.arrayContaining(["401", "403", "404", "409", "429", "503"]));
    expect(statuses("post", "/api/v1/tickets/{id}/transitions")).toEqual(expect.arrayContaining(["400", "404", "409", "413", "415"]));
    // Public, no input, no body: only what can happen there.
    expect(statuses("get", "/api/v1/openapi.json")).not.toEqual(expect.arrayContaining(["400"]));
    for (const status of ["401", "413", "415", "409", "502", "504"]) expect(statuses("get", "/api/v1/openapi.json")).not.toContain(status);
    // No body, no 413/415; no conflicts where none can happen.
    expect(statuses("get", "/api/v1/models")).not.toContain("413");
    expect(statuses("get", "/api/v1/tickets/{id}")).not.toContain("409");
  });

  it("gives the OpenAI-compatible routes' errors OpenAI's error object, and only theirs", () => {
    const schemaOf = (method: string, path: string, status: string) => operation(method, path).responses[status]!.content!["application/problem+json"]!.schema!.$ref;

    expect(schemaOf("post", "/api/v1/chat/completions", "401")).toBe("#/components/schemas/OpenAiProblem");
    expect(schemaOf("post", "/api/v1/chat/completions", "404")).toBe("#/components/schemas/OpenAiProblem");
    expect(schemaOf("get", "/api/v1/models", "429")).toBe("#/components/schemas/OpenAiProblem");
    expect(schemaOf("get", "/api/v1/tickets/{id}", "404")).toBe("#/components/schemas/Problem");
  });
});
