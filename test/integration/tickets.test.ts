import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, setRateLimits, startTestPlatform } from "../support/platform";

let platform: Platform;
let acme: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  // No stream consumers: the audit trail of tickets is the audit suite's business, and skipping it
  // halves the work DynamoDB Local does here.
  platform = await startTestPlatform({ consumers: [] });
  acme = await createTenant(platform, { name: "Acme Bank", tier: "enterprise" });
});
afterAll(async () => {
  await platform?.stop();
});

const open = (key: string, body: Record<string, unknown>) => call(platform, "/tickets", { method: "POST", key, body });
const move = (key: string, ref: string, body: Record<string, unknown>) => call(platform, `/tickets/${ref}/transitions`, { method: "POST", key, body });

/** Every item of a listing, following cursors; fails on a page larger than `limit`. */
async function listAll(key: string, query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await call(platform, `/tickets?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`, { key });
    expect(page.status, page.text).toBe(200);
    expect(page.body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...page.body.items.map((t: { id: string }) => t.id));
    cursor = page.body.cursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { ids, pages };
}

describe("tickets over HTTP", () => {
  it("opens an incident with impact 1 and urgency 2 as priority 2 with an INC number", async () => {
    const tenant = await createTenant(platform, { tier: "professional" });

    const created = await open(tenant.key, { type: "incident", title: "Payroll is down", impact: 1, urgency: 2, affectedService: "Payroll" });

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      number: "INC0001001",
      type: "incident",
      priority: 2,
      priorityLabel: "High",
      state: "new",
      caller: { kind: "person", id: `key:${tenant.keyId}`, name: "test" },
      createdBy: `key:${tenant.keyId}`,
      affectedService: "Payroll",
      version: 1,
    });
    expect(created.body.sla.response).toMatchObject({ targetMinutes: 60, status: "running", breached: false });
    expect(created.body.sla.resolution).toMatchObject({ targetMinutes: 480, status: "running" });
  });

  it("numbers each type separately with its prefix", async () => {
    const tenant = await createTenant(platform);

    const numbers: string[] = [];
    for (const type of ["incident", "service_request", "change", "problem", "incident"]) {
      numbers.push((await open(tenant.key, { type, title: `A ${type}` })).body.number);
    }

    expect(numbers).toEqual(["INC0001001", "REQ0001001", "CHG0001001", "PRB0001001", "INC0001002"]);
  });

  it.each([
    [1, 1, 1],
    [1, 2, 2],
    [2, 1, 2],
    [1, 3, 3],
    [2, 2, 3],
    [3, 1, 3],
    [2, 3, 4],
    [3, 2, 4],
    [3, 3, 5],
  ])("impact %i and urgency %i give priority %i", async (impact, urgency, priority) => {
    const created = await open(acme.key, { type: "incident", title: "Matrix", impact, urgency });

    expect(created.body.priority).toBe(priority);
  });

  it("recomputes the priority and the SLA targets when impact or urgency change", async () => {
    const created = await open(acme.key, { type: "service_request", title: "Access to the share", impact: 3, urgency: 3 });

    const updated = await call(platform, `/tickets/${created.body.id}`, { method: "PATCH", key: acme.key, body: { impact: 1, urgency: 2 } });

    expect(created.body.priority).toBe(5);
    expect(updated.body).toMatchObject({ priority: 2, priorityLabel: "High" });
    // Enterprise, priority 2: 30 minutes to respond, 4 hours to resolve.
    expect(updated.body.sla.response.targetMinutes).toBe(30);
    expect(updated.body.sla.resolution.targetMinutes).toBe(240);
    expect(updated.body.history).toBeUndefined();
  });

  it("answers an invalid transition with 409 problem+json listing the allowed ones", async () => {
    const created = await open(acme.key, { type: "incident", title: "Printer jam" });

    const refused = await move(acme.key, created.body.id, { to: "closed" });

    expect(refused.status).toBe(409);
    expect(refused.headers.get("content-type")).toBe("application/problem+json");
    expect(refused.body).toMatchObject({ code: "invalid_transition", from: "new", to: "closed", allowed: ["in_progress", "canceled"] });
  });

  it("works an incident from new to closed by number, with hold reason, resolution and a full history", async () => {
    const { body: incident } = await open(acme.key, { type: "incident", title: "VPN drops", impact: 2, urgency: 2 });
    const ref = incident.number;

    const steps = [
      await move(acme.key, ref, { to: "in_progress", note: "Looking at it" }),
      await move(acme.key, ref, { to: "on_hold", reason: "awaiting_vendor" }),
      await move(acme.key, ref, { to: "in_progress" }),
      await move(acme.key, ref, { to: "resolved", reason: "solved_workaround", note: "Split tunnel disabled" }),
      await move(acme.key, ref, { to: "closed" }),
    ];
    const read = await call(platform, `/tickets/${ref}`, { key: acme.key });

    expect(steps.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    expect(steps[1]!.body.holdReason).toBe("awaiting_vendor");
    expect(steps[2]!.body.holdReason).toBeNull();
    expect(read.body).toMatchObject({ state: "closed", resolutionCode: "solved_workaround", resolutionNotes: "Split tunnel disabled", version: 6 });
    expect(read.body.closedAt).toBeTruthy();
    expect(read.body.history.map((h: { action: string }) => h.action)).toEqual(["created", "transitioned", "transitioned", "transitioned", "transitioned", "transitioned"]);
    expect(read.body.history.map((h: { changes: { field: string; to: unknown }[] }) => h.changes.find((c) => c.field === "state")?.to)).toEqual([
      "new",
      "in_progress",
      "on_hold",
      "in_progress",
      "resolved",
      "closed",
    ]);
    expect(read.body.history[1]).toMatchObject({ seq: 2, actor: `key:${acme.keyId}`, note: "Looking at it" });
  });

  it("refuses to put an incident on hold without a valid hold reason, and to resolve it without code and notes", async () => {
    const { body: incident } = await open(acme.key, { type: "incident", title: "Mail slow" });
    await move(acme.key, incident.id, { to: "in_progress" });

    const noReason = await move(acme.key, incident.id, { to: "on_hold" });
    const unknownReason = await move(acme.key, incident.id, { to: "on_hold", reason: "lunch" });
    const noNotes = await move(acme.key, incident.id, { to: "resolved", reason: "solved_permanently" });

    expect(noReason.status).toBe(400);
    expect(noReason.body.code).toBe("hold_reason_required");
    expect(unknownReason.status).toBe(400);
    expect(unknownReason.body).toMatchObject({
      code: "hold_reason_invalid",
      allowed: ["awaiting_caller", "awaiting_change", "awaiting_problem", "awaiting_vendor"],
      errors: [{ field: "reason" }],
    });
    expect(unknownReason.body.detail).toContain("'lunch' is not one of the hold reasons");
    expect(noNotes.status).toBe(400);
    expect(noNotes.body).toMatchObject({ code: "resolution_required", errors: [{ field: "note" }] });
  });

  it("records edits in the history and refuses edits of a closed ticket", async () => {
    const { body: request } = await open(acme.key, { type: "service_request", title: "New laptop" });

    const edited = await call(platform, `/tickets/${request.id}`, { method: "PATCH", key: acme.key, body: { title: "New laptop (16 GB)", category: "hardware" } });
    await move(acme.key, request.id, { to: "rejected", reason: "Budget frozen" });
    const late = await call(platform, `/tickets/${request.id}`, { method: "PATCH", key: acme.key, body: { title: "Too late" } });
    const read = await call(platform, `/tickets/${request.id}`, { key: acme.key });

    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ title: "New laptop (16 GB)", category: "hardware", version: 2 });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe("ticket_closed");
    expect(read.body.history[1]).toMatchObject({
      action: "updated",
      changes: [
        { field: "title", from: "New laptop", to: "New laptop (16 GB)" },
        { field: "category", from: null, to: "hardware" },
      ],
    });
  });

  it("refuses fields of another ticket type", async () => {
    const wrong = await open(acme.key, { type: "incident", title: "x", changeType: "emergency", knownError: undefined });

    expect(wrong.status).toBe(400);
    expect(wrong.body.errors).toEqual([expect.objectContaining({ field: "changeType", message: "applies to changes only" })]);
  });

  it("adds comments and work notes to the activity", async () => {
    const { body: incident } = await open(acme.key, { type: "incident", title: "Laptop fan noisy" });

    const comment = await call(platform, `/tickets/${incident.id}/comments`, { method: "POST", key: acme.key, body: { text: "We ordered a fan." } });
    const note = await call(platform, `/tickets/${incident.id}/comments`, { method: "POST", key: acme.key, body: { text: "Part 123-A", visibility: "work_note" } });
    const read = await call(platform, `/tickets/${incident.id}`, { key: acme.key });

    expect(comment.status).toBe(201);
    expect(comment.body).toMatchObject({ seq: 2, action: "commented", note: "We ordered a fan.", visibility: "comment" });
    expect(note.body).toMatchObject({ seq: 3, visibility: "work_note" });
    expect(read.body.history).toHaveLength(3);
  });

  it("links an incident to a problem and the problem to its change, both ways", async () => {
    const incident = (await open(acme.key, { type: "incident", title: "Disk full again" })).body;
    const problem = (await open(acme.key, { type: "problem", title: "Log rotation broken" })).body;
    const change = (await open(acme.key, { type: "change", title: "Fix logrotate config", changeType: "standard" })).body;

    const first = await call(platform, `/tickets/${incident.id}/links`, { method: "POST", key: acme.key, body: { ticket: problem.number } });
    const second = await call(platform, `/tickets/${problem.number}/links`, { method: "POST", key: acme.key, body: { ticket: change.id } });
    const again = await call(platform, `/tickets/${incident.id}/links`, { method: "POST", key: acme.key, body: { ticket: problem.id } });
    const wrong = await call(platform, `/tickets/${incident.id}/links`, { method: "POST", key: acme.key, body: { ticket: incident.id } });
    const readProblem = await call(platform, `/tickets/${problem.id}`, { key: acme.key });
    const readChange = await call(platform, `/tickets/${change.id}`, { key: acme.key });

    expect(first.status).toBe(200);
    expect(first.body.links).toEqual([{ kind: "problem", id: problem.id, number: problem.number }]);
    expect(second.body.links).toEqual([
      { kind: "incident", id: incident.id, number: incident.number },
      { kind: "change", id: change.id, number: change.number },
    ]);
    expect(again.body.links).toHaveLength(1);
    expect(wrong.status).toBe(400);
    expect(readProblem.body.links.map((l: { kind: string }) => l.kind)).toEqual(["incident", "change"]);
    expect(readChange.body.links).toEqual([{ kind: "problem", id: problem.id, number: problem.number }]);
    // The history names the linked ticket by id and number, both ways, not only as a change's raw value.
    expect(readChange.body.history.at(-1)).toMatchObject({ action: "linked", link: { kind: "problem", id: problem.id, number: problem.number } });
    expect(readProblem.body.history.at(-1)).toMatchObject({ action: "linked", link: { kind: "change", id: change.id, number: change.number } });
  });

  it("names its actors: a ticket opened with a key named helpdesk-bot shows helpdesk-bot as opener, caller and history actor", async () => {
    const key = await call(platform, `/organizations/${acme.org.id}/api-keys`, { method: "POST", key: platform.operatorKey, body: { name: "helpdesk-bot" } });
    const bot = key.body.secret as string;

    const created = await open(bot, { type: "incident", title: "VPN drops every hour" });
    await call(platform, `/tickets/${created.body.id}/comments`, { method: "POST", key: acme.key, body: { text: "Seen it too" } });
    const read = await call(platform, `/tickets/${created.body.number}`, { key: acme.key });
    const listed = await call(platform, "/tickets?q=vpn%20drops&limit=5", { key: acme.key });
    const explicitCaller = await open(bot, { type: "incident", title: "Phone broken", caller: "Dana Scully" });

    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      createdBy: `key:${key.body.id}`,
      createdByName: "helpdesk-bot",
      caller: { kind: "person", id: `key:${key.body.id}`, name: "helpdesk-bot" },
      callerName: "helpdesk-bot",
      updatedByName: "helpdesk-bot",
    });
    expect(read.body.history.map((h: { actor: string; actorName: string }) => [h.actor, h.actorName])).toEqual([
      [`key:${key.body.id}`, "helpdesk-bot"],
      [`key:${acme.keyId}`, "test"],
    ]);
    expect(read.body).toMatchObject({ createdByName: "helpdesk-bot", updatedBy: `key:${acme.keyId}`, updatedByName: "test" });
    expect(listed.body.items[0]).toMatchObject({ id: created.body.id, createdByName: "helpdesk-bot" });
    expect(explicitCaller.body).toMatchObject({ caller: { kind: "person", name: "Dana Scully" }, callerName: "Dana Scully", createdByName: "helpdesk-bot" });
  });

  it("accepts ids in upper case (ULIDs are case-insensitive) and answers with the stored lowercase ids", async () => {
    const tenant = await createTenant(platform);
    const agent = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Ivy", roleId: "ceo" } });
    const upper = (agent.body.id as string).toUpperCase();

    const read = await call(platform, `/agents/${upper}`, { key: tenant.key });
    const created = await open(tenant.key, { type: "incident", title: "Monitor flickers", assignedTo: upper });
    const byUpperId = await call(platform, `/tickets/${(created.body.id as string).toUpperCase()}`, { key: tenant.key });
    const filtered = await call(platform, `/tickets?assignee=${upper}`, { key: tenant.key });

    expect(read.status).toBe(200);
    expect(read.body.id).toBe(agent.body.id);
    expect(created.status).toBe(201);
    expect(created.body.assignedTo).toBe(agent.body.id);
    expect(byUpperId.status).toBe(200);
    expect(byUpperId.body.id).toBe(created.body.id);
    expect(filtered.body.items.map((t: { id: string }) => t.id)).toEqual([created.body.id]);
  });

  it("refuses every change to a closed or canceled ticket with 409 ticket_closed: links (either end), comments, work notes, edits", async () => {
    const incident = (await open(acme.key, { type: "incident", title: "Printer jam" })).body;
    await move(acme.key, incident.id, { to: "in_progress" });
    await move(acme.key, incident.id, { to: "resolved", reason: "solved_permanently", note: "Cleared the jam" });
    const closed = await move(acme.key, incident.id, { to: "closed" });
    const canceled = (await open(acme.key, { type: "incident", title: "Opened by mistake" })).body;
    await move(acme.key, canceled.id, { to: "canceled" });
    const problem = (await open(acme.key, { type: "problem", title: "Printers jam weekly" })).body;

    const attempts = {
      linkFromClosed: await call(platform, `/tickets/${incident.id}/links`, { method: "POST", key: acme.key, body: { ticket: problem.number } }),
      linkToClosed: await call(platform, `/tickets/${problem.id}/links`, { method: "POST", key: acme.key, body: { ticket: incident.number } }),
      comment: await call(platform, `/tickets/${incident.id}/comments`, { method: "POST", key: acme.key, body: { text: "Still jams?" } }),
      workNote: await call(platform, `/tickets/${incident.id}/comments`, { method: "POST", key: acme.key, body: { text: "internal", visibility: "work_note" } }),
      edit: await call(platform, `/tickets/${incident.id}`, { method: "PATCH", key: acme.key, body: { title: "Renamed" } }),
      canceledComment: await call(platform, `/tickets/${canceled.number}/comments`, { method: "POST", key: acme.key, body: { text: "hello" } }),
      canceledLink: await call(platform, `/tickets/${canceled.id}/links`, { method: "POST", key: acme.key, body: { ticket: problem.id } }),
    };
    const reopen = await move(acme.key, incident.id, { to: "in_progress" });
    const readIncident = await call(platform, `/tickets/${incident.id}`, { key: acme.key });
    const readProblem = await call(platform, `/tickets/${problem.id}`, { key: acme.key });

    expect(closed.body.state).toBe("closed");
    for (const [name, attempt] of Object.entries(attempts)) {
      expect(attempt.status, name).toBe(409);
      expect(attempt.headers.get("content-type"), name).toBe("application/problem+json");
      expect(attempt.body, name).toMatchObject({ code: "ticket_closed", allowedActions: ["read"] });
    }
    expect(attempts.linkFromClosed.body).toMatchObject({ number: incident.number, state: "closed", action: "link" });
    expect(attempts.linkToClosed.body).toMatchObject({ number: incident.number, state: "closed", action: "link" });
    expect(attempts.canceledComment.body).toMatchObject({ number: canceled.number, state: "canceled", action: "comment" });
    expect(reopen.status).toBe(409);
    expect(reopen.body).toMatchObject({ code: "invalid_transition", allowed: [] });
    expect(readIncident.body.history.at(-1).changes[0]).toEqual({ field: "state", from: "resolved", to: "closed" });
    expect(readIncident.body).toMatchObject({ version: closed.body.version, links: [], title: "Printer jam" });
    expect(readProblem.body).toMatchObject({ version: 1, links: [] });
  });

  it("is 404 for an unknown id or number and 403 for the operator key", async () => {
    const unknownId = await call(platform, "/tickets/01jzzzzzzzzzzzzzzzzzzzzzzz", { key: acme.key });
    const unknownNumber = await call(platform, "/tickets/INC9999999", { key: acme.key });
    const garbage = await call(platform, "/tickets/not-a-ticket", { key: acme.key });
    const operator = await call(platform, "/tickets", { key: platform.operatorKey });

    expect([unknownId.status, unknownNumber.status, garbage.status]).toEqual([404, 404, 404]);
    expect(operator.status).toBe(403);
    expect(operator.body.code).toBe("org_key_required");
  });

  it("keeps each organization's tickets to itself on every ticket route", async () => {
    const other = await createTenant(platform, { name: "Other Org" });
    const { body: theirs } = await open(other.key, { type: "incident", title: "Their secret outage" });
    const mine = await open(acme.key, { type: "incident", title: "Mine" });

    const attempts = [
      await call(platform, `/tickets/${theirs.id}`, { key: acme.key }),
      await call(platform, `/tickets/${theirs.id}`, { method: "PATCH", key: acme.key, body: { title: "Hijacked" } }),
      await move(acme.key, theirs.id, { to: "in_progress" }),
      await call(platform, `/tickets/${theirs.id}/comments`, { method: "POST", key: acme.key, body: { text: "hi" } }),
      await call(platform, `/tickets/${theirs.id}/links`, { method: "POST", key: acme.key, body: { ticket: mine.body.id } }),
      await call(platform, `/tickets/${mine.body.id}/links`, { method: "POST", key: acme.key, body: { ticket: theirs.id } }),
    ];
    // Numbers are per organization: the same number names Acme's own ticket (or none), never theirs.
    const byNumber = await call(platform, `/tickets/${theirs.number}`, { key: acme.key });
    const listed = await call(platform, "/tickets?limit=100&q=secret", { key: acme.key });
    const untouched = await call(platform, `/tickets/${theirs.id}`, { key: other.key });

    expect(attempts.map((a) => a.status)).toEqual([404, 404, 404, 404, 404, 404]);
    expect(byNumber.text).not.toContain(theirs.id);
    expect(byNumber.text).not.toContain("Their secret outage");
    expect(listed.body.items).toEqual([]);
    expect(untouched.body).toMatchObject({ title: "Their secret outage", state: "new", version: 1, links: [] });
  });
});

describe("listing tickets", () => {
  let tenant: Awaited<ReturnType<typeof createTenant>>;
  const created: { id: string; type: string; priority: number; state: string }[] = [];
  let agentId: string;

  beforeAll(async () => {
    tenant = await createTenant(platform, { tier: "enterprise" });
    // Assignees must be agents of the organization.
    const agent = await call(platform, "/agents", { method: "POST", key: tenant.key, body: { name: "Ada", roleId: "ceo" } });
    expect(agent.status, agent.text).toBe(201);
    agentId = agent.body.id;
    const types = ["incident", "service_request", "incident", "problem", "change", "incident"];
    const bodies = Array.from({ length: 30 }, (_, i) => ({
      type: types[i % types.length]!,
      title: `Ticket ${i} ${i % 5 === 0 ? "printer" : "network"}`,
      impact: (i % 3) + 1,
      urgency: 2,
      ...(i % 4 === 0 ? { assignedTo: agentId } : {}),
    }));
    const tickets = await Promise.all(bodies.map((body) => open(tenant.key, body)));
    tickets.forEach(({ body: ticket }, i) => created.push({ id: ticket.id, type: bodies[i]!.type, priority: ticket.priority, state: "new" }));
    // Some end (leave the open-tickets index), some move on.
    const ending = created.slice(0, 6);
    const working = created.filter((c) => c.type === "incident").slice(3, 6);
    const moves = await Promise.all([
      ...ending.map((t) => move(tenant.key, t.id, { to: "canceled" })),
      ...working.map((t) => move(tenant.key, t.id, { to: "in_progress" })),
    ]);
    expect(moves.map((m) => m.status)).toEqual(moves.map(() => 200));
    ending.forEach((t) => (t.state = "canceled"));
    working.forEach((t) => (t.state = "in_progress"));
  });

  const expectExactly = (ids: string[], expected: { id: string }[]) => {
    expect(new Set(ids).size, "no duplicates").toBe(ids.length);
    // Newest first: ids are ULIDs, so descending id order.
    expect(ids).toEqual(expected.map((t) => t.id).sort().reverse());
  };

  it("pages through everything newest first, without duplicates or gaps", async () => {
    const { ids, pages } = await listAll(tenant.key, "", 7);

    expectExactly(ids, created);
    expect(pages).toBe(5);
  });

  it.each([
    ["&type=incident", (t: (typeof created)[number]) => t.type === "incident"],
    ["&priority=2", (t: (typeof created)[number]) => t.priority === 2],
    ["&state=in_progress", (t: (typeof created)[number]) => t.state === "in_progress"],
    ["&state=new&type=incident", (t: (typeof created)[number]) => t.state === "new" && t.type === "incident"],
    ["&active=true", (t: (typeof created)[number]) => t.state !== "canceled"],
    ["&active=false", (t: (typeof created)[number]) => t.state === "canceled"],
    ["&assignee=AGENT", (_: (typeof created)[number], i: number) => i % 4 === 0],
    ["&assignee=none&type=problem", (t: (typeof created)[number], i: number) => i % 4 !== 0 && t.type === "problem"],
  ])("filters by %s across pages without duplicates or gaps", async (query, keep) => {
    const expected = created.filter((t, i) => keep(t, i));

    const { ids } = await listAll(tenant.key, query.replace("AGENT", agentId), 3);

    expect(expected.length).toBeGreaterThan(0);
    expectExactly(ids, expected);
  });

  it("refuses an assignee that is not an agent of the organization", async () => {
    const unknown = await open(tenant.key, { type: "incident", title: "x", assignedTo: "01jzzzzzzzzzzzzzzzzzzzzzzz" });

    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ field: "assignedTo" })]);
  });

  it("searches words in titles", async () => {
    const { ids } = await listAll(tenant.key, "&q=PRINTER", 4);

    expectExactly(ids, created.filter((_, i) => i % 5 === 0));
  });

  it("rejects a cursor it did not issue and filters it does not know", async () => {
    const forged = Buffer.from(JSON.stringify({ pk: `T#${acme.org.id}`, sk: "TICKET#x" })).toString("base64url");

    const badCursor = await call(platform, `/tickets?cursor=${forged}`, { key: tenant.key });
    const badState = await call(platform, "/tickets?state=sleeping", { key: tenant.key });

    expect(badCursor.status).toBe(400);
    expect(badCursor.body.code).toBe("invalid_cursor");
    expect(badState.status).toBe(400);
  });
});

describe("ticket quota", () => {
  it("lets exactly 100 of 150 concurrent creates through on the basic tier and answers the rest 429 with the reset date", async () => {
    const tenant = await createTenant(platform, { tier: "basic" });
    // 150 at once is more than the basic tier's burst: lift the rate limits, so the quota is what refuses.
    await setRateLimits(platform, tenant.org.id);
    // The local runtime loads a function's code on its first request, as a cold start does: load it
    // before the storm, as earlier tests of this file do, so the test measures the quota, not the load.
    expect((await call(platform, "/tickets", { key: tenant.key })).status).toBe(200);

    // A client as the SDKs are: a 503 (DynamoDB Local on two shared cores can fall behind 150 transactions
    // at once, and the platform then answers "retry shortly") is retried after its Retry-After, a few
    // times. Every request must end as a 201 or a 429, exactly 100 of them created.
    const patient = async (body: Record<string, unknown>) => {
      for (let attempt = 1; ; attempt++) {
        const result = await open(tenant.key, body);
        if (result.status !== 503 || attempt >= 5) return result;
        await new Promise((resolve) => setTimeout(resolve, Number(result.headers.get("retry-after") ?? 1) * 1000 * Math.random()));
      }
    };
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) => patient({ type: "incident", title: `Storm ${i}` })));
    const usage = await call(platform, `/organizations/${tenant.org.id}/usage`, { key: tenant.key });
    const after = await open(tenant.key, { type: "problem", title: "One more" });

    const created = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 429);
    expect(created).toHaveLength(100);
    expect(refused).toHaveLength(50);
    expect(new Set(created.map((r) => r.body.number)).size).toBe(100);
    expect(refused[0]!.headers.get("content-type")).toBe("application/problem+json");
    expect(refused[0]!.body).toMatchObject({ code: "ticket_quota_exceeded", limit: 100 });
    expect(Date.parse(refused[0]!.body.resetsAt)).toBeGreaterThan(Date.now());
    expect(Number(refused[0]!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(usage.body.tickets).toEqual({ used: 100, limit: 100 });
    expect(after.status).toBe(429);
    expect((await listAll(tenant.key, "", 100)).ids).toHaveLength(100);
  });
});

describe("ticket settings", () => {
  it("defaults to key holders, Change Managers and managers, and can be changed", async () => {
    const tenant = await createTenant(platform);

    const before = await call(platform, "/ticket-settings", { key: tenant.key });
    const put = await call(platform, "/ticket-settings", { method: "PUT", key: tenant.key, body: { changeAuthority: { keyHolders: false, keyIds: [tenant.keyId] } } });
    const after = await call(platform, "/ticket-settings", { key: tenant.key });

    expect(before.body).toEqual({ changeAuthority: { keyHolders: true, keyIds: [], roles: ["change-manager"], agentIds: [], maxLevel: 3 }, autoCloseDays: 7 });
    expect(put.status).toBe(200);
    expect(after.body.changeAuthority).toMatchObject({ keyHolders: false, keyIds: [tenant.keyId], roles: ["change-manager"] });
  });
});
