import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { createApprovalStore } from "../../core/db/approval.repository";
import { newId } from "../../core/ids";
import type { Platform } from "../../local/platform";
import { httpRoutes } from "../../functions/routes";
import { call, createTenant, startTestPlatform } from "../support/platform";

let platform: Platform;
let a: Awaited<ReturnType<typeof createTenant>>;
let b: Awaited<ReturnType<typeof createTenant>>;

/**
 * Org B's ids by the collection that precedes `{id}` in a path (and by parameter name for the others),
 * filled in beforeAll with real resources of org B. A new collection must add its id here.
 */
const B_IDS: Record<string, string> = {};

beforeAll(async () => {
  platform = await startTestPlatform();
  a = await createTenant(platform, { name: "Tenant A" });
  b = await createTenant(platform, { name: "Tenant B" });
  const role = await call(platform, "/roles", { method: "POST", key: b.key, body: { name: "B role", level: 1, systemPrompt: "b" } });
  const ceo = await call(platform, "/agents", { method: "POST", key: b.key, body: { name: "B CEO", roleId: role.body.id } });
  const worker = await call(platform, "/agents", { method: "POST", key: b.key, body: { name: "B worker", roleId: "specialist", managerId: ceo.body.id } });
  const message = await call(platform, `/agents/${ceo.body.id}/messages`, { method: "POST", key: b.key, body: { kind: "direct", to: worker.body.id, body: "b only" } });
  Object.assign(B_IDS, {
    organizations: b.org.id,
    keyId: b.keyId,
    roles: role.body.id,
    agents: ceo.body.id,
    messageId: message.body.items[0].id,
  });
  // Messages live in the recipient's inbox.
  B_IDS.inboxAgent = worker.body.id;
  const ticket = await call(platform, "/tickets", { method: "POST", key: b.key, body: { type: "incident", title: "B only" } });
  B_IDS.tickets = ticket.body.id;
  const group = await call(platform, "/assignment-groups", { method: "POST", key: b.key, body: { name: "B only" } });
  B_IDS["assignment-groups"] = group.body.id;
  // No model is configured here: the offline responder answers, and the completion still has its cost record.
  const completion = await call(platform, "/chat/completions", { method: "POST", key: b.key, body: { model: "auto", messages: [{ role: "user", content: "b only" }] } });
  B_IDS.completions = completion.body.id;
  // An approval request of org B, stored as the runtime's gate stores one (no model is configured here
  // to make an agent call a gated tool).
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
  const now = new Date();
  B_IDS.approvals = newId();
  await createApprovalStore({ client: db, table: platform.tableName }).create({
    id: B_IDS.approvals,
    orgId: b.org.id,
    kind: "tool_call",
    requestedBy: worker.body.id,
    requestedByName: "B worker",
    summary: "B worker wants to call escalate.",
    action: { tool: "escalate", arguments: { summary: "b only" }, rule: "escalate" },
    status: "pending",
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + 86_400_000).toISOString(),
  });
  db.destroy();
});

/** A path of the manifest with org B's ids in it. */
function fill(path: string): string {
  return path.replace(/\/([a-z-]+)\/\{id\}/, (_m, collection: string) => {
    const id = path.includes("{messageId}") ? B_IDS.inboxAgent : B_IDS[collection];
    if (!id) throw new Error(`isolation test: add an id of org B for /${collection}/{id} to B_IDS`);
    return `/${collection}/${id}`;
  }).replace(/\{(\w+)\}/g, (_m, name: string) => {
    const id = B_IDS[name];
    if (!id) throw new Error(`isolation test: add an id of org B for {${name}} to B_IDS`);
    return id;
  });
}
afterAll(async () => {
  await platform?.stop();
});

/** A plausible body for a route, so that validation passes and authorization is what is tested. */
const SAMPLE_BODIES: Record<string, unknown> = {
  "POST /api/v1/organizations/{id}/api-keys": { name: "probe" },
  "PATCH /api/v1/organizations/{id}/api-keys/{keyId}": { monthlyBudgetUsd: 5 },
  "PATCH /api/v1/organizations/{id}": { name: "Hijacked" },
  "PUT /api/v1/organizations/{id}/rate-limits": { organization: { requestsPerSecond: 0.001, burst: 1 } },
  "PATCH /api/v1/roles/{id}": { description: "hijacked" },
  "PATCH /api/v1/agents/{id}": { name: "Hijacked" },
  "POST /api/v1/agents/{id}/messages": { kind: "broadcast", body: "hijack" },
  "PATCH /api/v1/agents/{id}/messages/{messageId}": { status: "done" },
  "PATCH /api/v1/tickets/{id}": { title: "Hijacked" },
  "PATCH /api/v1/assignment-groups/{id}": { name: "Hijacked" },
  "POST /api/v1/tickets/{id}/transitions": { to: "canceled" },
  "POST /api/v1/tickets/{id}/comments": { text: "hijack" },
  "POST /api/v1/approvals/{id}/approve": {},
  "POST /api/v1/approvals/{id}/reject": { reason: "hijack" },
  "POST /api/v1/tickets/{id}/links": { ticket: "01jzzzzzzzzzzzzzzzzzzzzzzz" },
  "POST /api/v1/chat/completions/{id}/feedback": { rating: "down", neededLargeModel: true },
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
      const path = fill(route.path).replace("/api/v1", "");

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
    expect((await call(platform, "/routing/feedback", { key: b.key })).body.items).toEqual([]);
    expect((await call(platform, `/approvals/${B_IDS.approvals}`, { key: b.key })).body.status).toBe("pending");
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
