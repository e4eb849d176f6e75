import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "../../core/db/keys";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

/*
 * What the console's ticket forms need of the API (issue 14): the caller as a reference (person or
 * agent) instead of free text, tickets stored with a string caller read as a person, a problem opened
 * as a known error, and an edit made on a version refused once the ticket changed. Real platform,
 * DynamoDB Local.
 */

let platform: Platform;
let db: DynamoDBDocumentClient;

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [] });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  db?.destroy();
  await platform?.stop();
});

type Tenant = Awaited<ReturnType<typeof createTenant>>;
const open = (t: Tenant, body: Record<string, unknown>) => call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title: "Laptop broken", ...body } });

async function agent(t: Tenant, name: string): Promise<{ id: string }> {
  const result = await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId: "ceo" } });
  if (result.status !== 201) throw new Error(`${result.status} ${result.text}`);
  return result.body;
}

describe("the caller as a reference", () => {
  it("defaults to the acting key as a person, takes a string as a person's name and a person with an id", async () => {
    const t = await createTenant(platform);

    const byDefault = await open(t, {});
    const named = await open(t, { caller: "Dana Scully" });
    const person = await open(t, { caller: { kind: "person", id: "E-1001", name: "Fox Mulder" } });

    expect(byDefault.body).toMatchObject({ caller: { kind: "person", id: `key:${t.keyId}`, name: "test" }, callerName: "test" });
    expect(named.body.caller).toEqual({ kind: "person", name: "Dana Scully" });
    expect(person.body).toMatchObject({ caller: { kind: "person", id: "E-1001", name: "Fox Mulder" }, callerName: "Fox Mulder" });
    // The caller's name is searchable.
    const found = await call(platform, "/tickets?q=mulder", { key: t.key });
    expect(found.body.items.map((x: { id: string }) => x.id)).toEqual([person.body.id]);
  });

  it("takes an agent of the organization by id, named from the agent, and refuses another organization's agent", async () => {
    const t = await createTenant(platform);
    const other = await createTenant(platform);
    const ada = await agent(t, "Ada Lovelace");
    const stranger = await agent(other, "Eve");

    const byAgent = await open(t, { caller: { kind: "agent", id: ada.id.toUpperCase(), name: "ignored" } });
    const foreign = await open(t, { caller: { kind: "agent", id: stranger.id } });
    const malformed = await open(t, { caller: { kind: "agent", name: "Ada" } });
    const nameless = await open(t, { caller: { kind: "person" } });

    expect(byAgent.status, byAgent.text).toBe(201);
    expect(byAgent.body).toMatchObject({ caller: { kind: "agent", id: ada.id, name: "Ada Lovelace" }, callerName: "Ada Lovelace" });
    expect(foreign.status).toBe(400);
    expect(foreign.body).toMatchObject({ code: "validation_failed", errors: [{ field: "caller.id" }] });
    expect(malformed.status).toBe(400);
    expect(nameless.status).toBe(400);
  });

  it("changes the caller with PATCH and records the references in the history", async () => {
    const t = await createTenant(platform);
    const ada = await agent(t, "Ada Lovelace");
    const ticket = (await open(t, { caller: "Dana Scully" })).body;

    const patched = await call(platform, `/tickets/${ticket.number}`, { method: "PATCH", key: t.key, body: { caller: { kind: "agent", id: ada.id } } });
    const again = await call(platform, `/tickets/${ticket.number}`, { method: "PATCH", key: t.key, body: { caller: { kind: "agent", id: ada.id } } });

    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.caller).toEqual({ kind: "agent", id: ada.id, name: "Ada Lovelace" });
    expect(again.body.version).toBe(patched.body.version);
    const history = (await call(platform, `/tickets/${ticket.number}`, { key: t.key })).body.history;
    expect(history.at(-1).changes).toEqual([{ field: "caller", from: { kind: "person", name: "Dana Scully" }, to: { kind: "agent", id: ada.id, name: "Ada Lovelace" } }]);
  });

  it("reads a ticket stored with a string caller as a person of that name, and replaces it on PATCH", async () => {
    const t = await createTenant(platform);
    const a = (await open(t, {})).body;
    const b = (await open(t, {})).body;
    // As tickets were stored before callers were references: the opener's id with its name, or free text.
    const legacy = async (id: string, values: Record<string, unknown>) =>
      db.send(
        new UpdateCommand({
          TableName: platform.tableName,
          Key: keys.ticket(t.org.id, id),
          UpdateExpression: `SET ${Object.keys(values).map((k) => `#${k} = :${k}`).join(", ")}`,
          ExpressionAttributeNames: Object.fromEntries(Object.keys(values).map((k) => [`#${k}`, k])),
          ExpressionAttributeValues: Object.fromEntries(Object.entries(values).map(([k, v]) => [`:${k}`, v])),
        }),
      );
    await legacy(a.id, { caller: `key:${t.keyId}`, callerName: "helpdesk-bot" });
    await legacy(b.id, { caller: "Walter Skinner" });

    expect((await call(platform, `/tickets/${a.id}`, { key: t.key })).body).toMatchObject({
      caller: { kind: "person", id: `key:${t.keyId}`, name: "helpdesk-bot" },
      callerName: "helpdesk-bot",
    });
    const listed = await call(platform, "/tickets", { key: t.key });
    expect(listed.body.items.find((x: { id: string }) => x.id === b.id).caller).toEqual({ kind: "person", name: "Walter Skinner" });

    const same = await call(platform, `/tickets/${b.id}`, { method: "PATCH", key: t.key, body: { caller: "Walter Skinner" } });
    expect(same.body.version).toBe(b.version);
    const changed = await call(platform, `/tickets/${b.id}`, { method: "PATCH", key: t.key, body: { caller: { kind: "person", id: "E-7", name: "Walter Skinner" } } });
    expect(changed.body.caller).toEqual({ kind: "person", id: "E-7", name: "Walter Skinner" });
  });
});

describe("creating and editing as the console does", () => {
  it("opens a problem as a known error with its workaround, and refuses a known error without one", async () => {
    const t = await createTenant(platform);

    const known = await open(t, { type: "problem", title: "Spooler leak", rootCause: "Buffers kept", workaround: "Restart nightly", knownError: true });
    const bare = await open(t, { type: "problem", title: "Spooler leak", knownError: true });
    const incident = await open(t, { knownError: true, workaround: "x" });

    expect(known.status, known.text).toBe(201);
    expect(known.body).toMatchObject({ knownError: true, workaround: "Restart nightly", rootCause: "Buffers kept" });
    expect(bare.status).toBe(400);
    expect(bare.body).toMatchObject({ code: "validation_failed", errors: [{ field: "workaround" }] });
    expect(incident.status).toBe(400);
    expect(incident.body.errors.map((e: { field: string }) => e.field)).toContain("knownError");
  });

  it("applies an edit made on the current version, and refuses one made on an older version with 409 concurrent_modification", async () => {
    const t = await createTenant(platform);
    const ticket = (await open(t, {})).body;

    const first = await call(platform, `/tickets/${ticket.number}`, { method: "PATCH", key: t.key, body: { urgency: 1, version: ticket.version } });
    const stale = await call(platform, `/tickets/${ticket.number}`, { method: "PATCH", key: t.key, body: { title: "Mine", version: ticket.version } });
    const versionOnly = await call(platform, `/tickets/${ticket.number}`, { method: "PATCH", key: t.key, body: { version: first.body.version } });

    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ urgency: 1, version: ticket.version + 1 });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: "concurrent_modification", expectedVersion: ticket.version, version: ticket.version + 1 });
    expect((await call(platform, `/tickets/${ticket.number}`, { key: t.key })).body.title).toBe("Laptop broken");
    expect(versionOnly.status).toBe(400);
  });
});
