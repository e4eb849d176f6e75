import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { GetCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ensureTable, startDynamoDbLocal, type DynamoDbLocal } from "../../local/dynamodb";
import { createDocumentClient } from "../../core/db/client";
import { keys } from "../../core/db/keys";
import { createOrganizationStore } from "../../core/db/organization.repository";
import { createTicketSettingsStore, createTicketStore } from "../../core/db/ticket.repository";
import { createMeteringStore, createRoutingSettingsStore } from "../../core/db/metering.repository";
import { createTicketService } from "../../core/tickets/ticket-service";
import { CreateTicketBody } from "../../core/tickets/ticket.schema";
import { createChatService } from "../../core/chat/chat-service";
import { ChatCompletionRequest } from "../../core/chat/chat.schema";
import { createCatalog } from "../../core/models/catalog";
import { createOfflineProvider } from "../../core/models/offline-provider";
import { classifier } from "../../core/routing/classifier";
import { newId } from "../../core/ids";
import type { Clock } from "../../core/shared/clock";
import type { Organization } from "../../core/tenants/organization.schema";

/**
 * Fault: clocks that disagree around a month boundary (function instances skewed by seconds) and a
 * request that starts in one month and ends in the next. Real DynamoDB Local; the clocks are the
 * services' injected ones (the only part not real: no machine clock can be set per test).
 *
 * Invariants:
 * - a monthly quota holds in each month, whichever instance's clock decided the month;
 * - each ticket is counted exactly once, in the month its own record says it was opened;
 * - a model query's reservation is settled (or released) in the month it was reserved in, so no
 *   month is left with an open reservation and no month's committed spend goes negative.
 */
let dynamo: DynamoDbLocal;
let client: DynamoDBDocumentClient;
const table = "agentorg-faults";

beforeAll(async () => {
  dynamo = await startDynamoDbLocal({ port: 0 });
  const admin = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  await ensureTable(admin, table);
  admin.destroy();
  client = createDocumentClient({ endpoint: dynamo.endpoint, region: "us-east-1" });
});
afterAll(async () => {
  client?.destroy();
  await dynamo?.stop();
});

/** A clock that starts at `iso` and advances with real time (so requests in flight cross the boundary). */
function clockAt(iso: string): Clock {
  const offset = Date.parse(iso) - Date.now();
  return { now: () => new Date(Date.now() + offset) };
}

async function organization(ticketsPerMonth: number): Promise<Organization> {
  const now = new Date().toISOString();
  const org: Organization = {
    id: newId(),
    name: "Boundary",
    industry: "tech",
    size: "small",
    tier: "basic",
    status: "active",
    quotas: { agents: 10, ticketsPerMonth, modelBudgetUsd: 50 },
    basePriceUsd: 49,
    createdAt: now,
    updatedAt: now,
    version: 1,
  };
  await createOrganizationStore({ client, table }).create(org, "operator");
  return org;
}

async function usage(orgId: string, period: string) {
  const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.usage(orgId, period), ConsistentRead: true }));
  return { tickets: Number(Item?.tickets ?? 0), committed: Number(Item?.committedMicroUsd ?? 0), cost: Number(Item?.costMicroUsd ?? 0) };
}

describe("month boundaries with skewed clocks", () => {
  it("holds the ticket quota in each month and counts each ticket once, in its own month", async () => {
    const org = await organization(5);
    const deps = { store: createTicketStore({ client, table }), orgs: createOrganizationStore({ client, table }), settings: createTicketSettingsStore({ client, table }) };
    // One instance still in January, one already in February (1.5 s of skew across midnight).
    const january = createTicketService({ ...deps, clock: clockAt("2026-01-31T23:59:59.500Z") });
    const february = createTicketService({ ...deps, clock: clockAt("2026-02-01T00:00:01.000Z") });
    const actor = { kind: "person" as const, orgId: org.id, actor: "key:test" };

    const outcomes = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? february : january).create(actor, CreateTicketBody.parse({ type: "incident", title: `T${i}` }))),
    );
    const created = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
    const refused = outcomes.flatMap((o) => (o.status === "rejected" ? [o.reason as { code?: string }] : []));
    const [jan, feb] = await Promise.all([usage(org.id, "2026-01"), usage(org.id, "2026-02")]);

    expect(jan.tickets).toBeLessThanOrEqual(5);
    expect(feb.tickets).toBeLessThanOrEqual(5);
    expect(refused.map((r) => r.code ?? String(r)).filter((c) => c !== "ticket_quota_exceeded")).toEqual([]);
    expect(created.length).toBe(jan.tickets + feb.tickets);
    expect(created.filter((t) => t.createdAt.startsWith("2026-01")).length).toBe(jan.tickets);
    expect(created.filter((t) => t.createdAt.startsWith("2026-02")).length).toBe(feb.tickets);
  });

  it("settles a query reserved before midnight in the month it was reserved in", async () => {
    const org = await organization(5);
    const billable = { ...createOfflineProvider(), offline: false };
    const settings = { slm: {}, llm: {}, defaultSlm: "llama-3.2-3b", defaultLlm: "gpt-4o", timeoutMs: 5_000, maxRetries: 0, defaultMaxTokens: 256 };
    // The reservations are made just before midnight; the answers (and their settlement) come after it.
    let now = Date.parse("2026-01-31T23:59:59.950Z");
    const chat = createChatService({
      catalog: createCatalog(settings),
      // Instant answers, priced like a model's: offline answers cost nothing, which would settle nothing.
      providers: { slm: billable, llm: billable },
      classifier,
      metering: createMeteringStore({ client, table }),
      settings: createRoutingSettingsStore({ client, table }),
      orgs: createOrganizationStore({ client, table }),
      clock: { now: () => new Date(now) },
    });
    const principal = { kind: "org" as const, orgId: org.id, keyId: "test" };

    const plans = await Promise.all(Array.from({ length: 6 }, () => chat.plan(principal, ChatCompletionRequest.parse({ model: "auto", messages: [{ role: "user", content: "hello" }] }))));
    now = Date.parse("2026-02-01T00:00:00.100Z");
    const outcomes = await Promise.all(plans.map((p) => chat.complete(p)));
    const [jan, feb] = await Promise.all([usage(org.id, "2026-01"), usage(org.id, "2026-02")]);

    expect(plans.every((p) => p.period === "2026-01")).toBe(true);
    expect(outcomes.every((o) => o.record.time >= "2026-02-01")).toBe(true);
    expect(jan.cost).toBeGreaterThan(0);
    expect(jan.committed).toBe(jan.cost);
    expect(jan.cost).toBe(outcomes.reduce((sum, o) => sum + o.record.costMicroUsd, 0));
    expect(feb.committed).toBe(0);
  });
});
