import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

/*
 * Assignment groups (ITIL): teams of agents tickets are assigned to, their queues, and the rule that
 * an assignee set with a group is one of its members. Real platform, DynamoDB Local.
 */

let platform: Platform;

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [] });
});
afterAll(async () => {
  await platform?.stop();
});

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function agent(t: Tenant, name: string, roleId: string, managerId: string | null = null): Promise<{ id: string; name: string }> {
  const result = await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } });
  if (result.status !== 201) throw new Error(`create ${name}: ${result.status} ${result.text}`);
  return result.body;
}

/** A tenant with a CEO, a team lead and two specialists under the lead. */
async function team() {
  const t = await createTenant(platform);
  const ceo = await agent(t, "Ada", "ceo");
  const lead = await agent(t, "Lee", "team-lead", ceo.id);
  const sol = await agent(t, "Sol", "specialist", lead.id);
  const sky = await agent(t, "Sky", "specialist", lead.id);
  return { t, ceo, lead, sol, sky };
}

const createGroup = (t: Tenant, body: Record<string, unknown>) => call(platform, "/assignment-groups", { method: "POST", key: t.key, body });
const open = (t: Tenant, body: Record<string, unknown>) => call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title: "VPN down", ...body } });

describe("assignment groups", () => {
  it("creates, reads, lists, renames and deletes a group, with its members' names", async () => {
    const { t, lead, sol, sky } = await team();

    const created = await createGroup(t, { name: "Service Desk", description: "First line", members: [sol.id, sky.id.toUpperCase()], manager: lead.id });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: "Service Desk",
      description: "First line",
      members: [sol.id, sky.id],
      memberNames: [
        { id: sol.id, name: "Sol" },
        { id: sky.id, name: "Sky" },
      ],
      manager: lead.id,
      managerName: "Lee",
      openTickets: 0,
      version: 1,
      createdBy: `key:${t.keyId}`,
    });
    const id = created.body.id as string;

    expect((await call(platform, `/assignment-groups/${id}`, { key: t.key })).body.name).toBe("Service Desk");
    const list = await call(platform, "/assignment-groups", { key: t.key });
    expect(list.body.items.map((g: { id: string }) => g.id)).toEqual([id]);

    const renamed = await call(platform, `/assignment-groups/${id}`, { method: "PATCH", key: t.key, body: { name: "Network", members: [sky.id], version: 1 } });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({ name: "Network", members: [sky.id], manager: lead.id, version: 2 });

    const deleted = await call(platform, `/assignment-groups/${id}`, { method: "DELETE", key: t.key });
    expect(deleted.status).toBe(204);
    expect((await call(platform, `/assignment-groups/${id}`, { key: t.key })).status).toBe(404);
  });

  it("refuses members and managers that are no agents of the organization, with problem+json", async () => {
    const { t, sol } = await team();
    const other = await team();

    const stranger = await createGroup(t, { name: "Desk", members: [sol.id, other.sol.id] });
    expect(stranger.status).toBe(400);
    expect(stranger.body).toMatchObject({ code: "validation_failed", errors: [{ field: "members.1" }] });
    const badManager = await createGroup(t, { name: "Desk", manager: other.lead.id });
    expect(badManager.body).toMatchObject({ code: "validation_failed", errors: [{ field: "manager" }] });
    const repeated = await createGroup(t, { name: "Desk", members: [sol.id, sol.id] });
    expect(repeated.status).toBe(400);
    const empty = await createGroup(t, { name: " " });
    expect(empty.status).toBe(400);
  });

  it("refuses an edit made on a stale version with 409 concurrent_modification", async () => {
    const { t } = await team();
    const id = (await createGroup(t, { name: "Desk" })).body.id as string;
    expect((await call(platform, `/assignment-groups/${id}`, { method: "PATCH", key: t.key, body: { description: "a", version: 1 } })).status).toBe(200);

    const stale = await call(platform, `/assignment-groups/${id}`, { method: "PATCH", key: t.key, body: { description: "b", version: 1 } });

    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ code: "concurrent_modification", version: 2 });
    expect((await call(platform, `/assignment-groups/${id}`, { key: t.key })).body.description).toBe("a");
  });

  it("keeps groups to their organization: another tenant gets 404 for every route", async () => {
    const { t } = await team();
    const other = await createTenant(platform);
    const id = (await createGroup(t, { name: "Desk" })).body.id as string;

    for (const [method, body] of [["GET"], ["PATCH", { name: "Mine" }], ["DELETE"]] as const) {
      const result = await call(platform, `/assignment-groups/${id}`, { method, key: other.key, ...(body ? { body } : {}) });
      expect(result.status, method).toBe(404);
    }
    expect((await call(platform, "/assignment-groups", { key: other.key })).body.items).toEqual([]);
    const ticket = await open(other, { assignmentGroup: id });
    expect(ticket.status).toBe(400);
    expect(ticket.body).toMatchObject({ code: "validation_failed", errors: [{ field: "assignmentGroup" }] });
    expect((await call(platform, "/assignment-groups", { key: t.key })).body.items[0]).toMatchObject({ name: "Desk", openTickets: 0 });
  });

  it("assigns tickets to a group, and an assignee set with it must be a member (400 assignee_not_in_group)", async () => {
    const { t, lead, sol, sky } = await team();
    const desk = (await createGroup(t, { name: "Desk", members: [sol.id] })).body.id as string;
    const network = (await createGroup(t, { name: "Network", members: [sky.id] })).body.id as string;

    const ticket = await open(t, { assignmentGroup: desk, assignedTo: sol.id });
    expect(ticket.status, ticket.text).toBe(201);
    expect(ticket.body).toMatchObject({ assignmentGroup: desk, assignedTo: sol.id });

    const outsider = await open(t, { assignmentGroup: desk, assignedTo: lead.id });
    expect(outsider.status).toBe(400);
    expect(outsider.body).toMatchObject({ code: "assignee_not_in_group", errors: [{ field: "assignedTo" }] });

    const number = ticket.body.number as string;
    // Reassigning within the group's members only; the group and its member together.
    const wrong = await call(platform, `/tickets/${number}`, { method: "PATCH", key: t.key, body: { assignedTo: sky.id } });
    expect(wrong.body.code).toBe("assignee_not_in_group");
    const groupOnly = await call(platform, `/tickets/${number}`, { method: "PATCH", key: t.key, body: { assignmentGroup: network } });
    expect(groupOnly.body.code).toBe("assignee_not_in_group");
    const moved = await call(platform, `/tickets/${number}`, { method: "PATCH", key: t.key, body: { assignmentGroup: network, assignedTo: sky.id } });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({ assignmentGroup: network, assignedTo: sky.id });

    const history = (await call(platform, `/tickets/${number}`, { key: t.key })).body.history;
    expect(history.at(-1).changes).toEqual(
      expect.arrayContaining([
        { field: "assignedTo", from: sol.id, to: sky.id },
        { field: "assignmentGroup", from: desk, to: network },
      ]),
    );
    expect(history[0].changes).toContainEqual({ field: "assignmentGroup", from: null, to: desk });

    const unknown = await open(t, { assignmentGroup: "01jzzzzzzzzzzzzzzzzzzzzzzz" });
    expect(unknown.body).toMatchObject({ code: "validation_failed", errors: [{ field: "assignmentGroup" }] });
  });

  it("lists a group's queue (its open tickets) and refuses to delete a group with open tickets (409)", async () => {
    const { t, sol } = await team();
    const desk = (await createGroup(t, { name: "Desk", members: [sol.id] })).body.id as string;
    const other = (await createGroup(t, { name: "Other" })).body.id as string;
    const a = (await open(t, { title: "A", assignmentGroup: desk })).body;
    const b = (await open(t, { title: "B", assignmentGroup: desk, assignedTo: sol.id })).body;
    await open(t, { title: "C", assignmentGroup: other });
    await open(t, { title: "D" });

    const queue = await call(platform, `/tickets?assignmentGroup=${desk}`, { key: t.key });
    expect(queue.status, queue.text).toBe(200);
    expect(queue.body.items.map((x: { title: string }) => x.title)).toEqual(["B", "A"]);
    expect((await call(platform, `/assignment-groups/${desk}`, { key: t.key })).body.openTickets).toBe(2);

    const inUse = await call(platform, `/assignment-groups/${desk}`, { method: "DELETE", key: t.key });
    expect(inUse.status).toBe(409);
    expect(inUse.body).toMatchObject({ code: "assignment_group_in_use", openTickets: 2 });

    // A canceled ticket leaves the queue; one moved to another group too.
    expect((await call(platform, `/tickets/${a.id}/transitions`, { method: "POST", key: t.key, body: { to: "canceled" } })).status).toBe(200);
    expect((await call(platform, `/tickets/${b.id}`, { method: "PATCH", key: t.key, body: { assignmentGroup: other, assignedTo: null } })).status).toBe(200);
    expect((await call(platform, `/tickets?assignmentGroup=${desk}`, { key: t.key })).body.items).toEqual([]);
    expect((await call(platform, `/tickets?assignmentGroup=${desk}&active=false`, { key: t.key })).body.items.map((x: { title: string }) => x.title)).toEqual(["A"]);
    expect((await call(platform, `/assignment-groups/${other}`, { key: t.key })).body.openTickets).toBe(2);

    expect((await call(platform, `/assignment-groups/${desk}`, { method: "DELETE", key: t.key })).status).toBe(204);
    // A deleted group can be named no more.
    expect((await open(t, { assignmentGroup: desk })).status).toBe(400);
  });
});
