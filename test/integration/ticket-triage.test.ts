import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import { marshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { keys } from "../../core/db/keys";
import { handler as triageHandler } from "../../functions/stream/ticket-triage";
import { ticketTriageConsumer } from "../../functions/manifest/tickets";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

/**
 * Triage on ticket creation, end to end: tickets created through the API reach the table's stream,
 * the stream poller feeds the triage consumer (the manifest's, with its filter), and the
 * organization's ITSM agent triages them. A redelivery is replayed by hand with the stored item as the
 * record's image, as the mapping would deliver it again.
 */
let platform: Platform;
let db: DynamoDBDocumentClient;
type Tenant = Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  platform = await startTestPlatform({ consumers: [ticketTriageConsumer] });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  db?.destroy();
  await platform?.stop();
});

async function agent(t: Tenant, name: string, roleId: string, managerId: string | null = null) {
  const result = await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } });
  if (result.status !== 201) throw new Error(`create ${name}: ${result.status} ${result.text}`);
  return result.body as { id: string };
}

async function open(t: Tenant, body: Record<string, unknown>) {
  const result = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", ...body } });
  if (result.status !== 201) throw new Error(`create ticket: ${result.status} ${result.text}`);
  return result.body as { id: string; number: string };
}

const read = async (t: Tenant, id: string) => (await call(platform, `/tickets/${id}`, { key: t.key })).body as Record<string, any>;
const inbox = async (t: Tenant, agentId: string) => (await call(platform, `/agents/${agentId}/messages`, { key: t.key })).body.items as Record<string, any>[];
const triageNotes = (ticket: Record<string, any>) =>
  (ticket.history as Record<string, any>[]).filter((h) => h.action === "commented" && h.visibility === "work_note" && String(h.note).startsWith("Triage by"));

/** The stream record of a ticket's insert, its image being the item as stored now. */
async function insertRecord(orgId: string, id: string): Promise<DynamoDBRecord> {
  const item = (await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.ticket(orgId, id) }))).Item!;
  return {
    eventID: `replay-${id}`,
    eventName: "INSERT",
    eventSource: "aws:dynamodb",
    dynamodb: { Keys: marshall({ pk: item.pk, sk: item.sk }) as never, NewImage: marshall(item, { removeUndefinedValues: true }) as never, SequenceNumber: "1", StreamViewType: "NEW_AND_OLD_IMAGES" },
  };
}

describe("ticket triage", () => {
  let staffed: Tenant;
  const agents = {} as Record<"ceo" | "lead" | "im", { id: string }>;

  beforeAll(async () => {
    staffed = await createTenant(platform, { tier: "basic" });
    agents.ceo = await agent(staffed, "Ada", "ceo");
    agents.lead = await agent(staffed, "Lee", "team-lead", agents.ceo.id);
    agents.im = await agent(staffed, "Ines", "incident-manager", agents.lead.id);
  });

  it("triages a P1 incident created by a key: fields, work note, assignee, and an escalation to the agent's manager", async () => {
    const made = await open(staffed, { title: "Payroll service down for all users", description: "Nobody can open payroll; no workaround." });
    await platform.poller.drained();

    const ticket = await read(staffed, made.id);
    expect(ticket).toMatchObject({ impact: 1, urgency: 1, priority: 1, category: "software", assignedTo: agents.im.id, triagedBy: `agent:${agents.im.id}` });
    expect(ticket.triagedAt).toEqual(expect.any(String));
    const [note, ...more] = triageNotes(ticket) as [Record<string, any>, ...Record<string, any>[]];
    expect(more).toEqual([]);
    expect(note).toMatchObject({ actor: `agent:${agents.im.id}`, actorName: "Ines" });
    expect(note.note).toContain("deterministic rules, no model");
    expect(note.note).toContain("Priority 1 (Critical)");
    const escalations = (await inbox(staffed, agents.lead.id)).filter((m) => m.kind === "escalate" && String(m.subject).includes(made.number));
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ from: agents.im.id, to: agents.lead.id });
  });

  it("never overwrites what the caller set, and does not escalate below P1", async () => {
    const made = await open(staffed, { title: "VPN is down for everyone", impact: 3, urgency: 2, category: "facilities", assignedTo: agents.lead.id });
    await platform.poller.drained();

    const ticket = await read(staffed, made.id);
    expect(ticket).toMatchObject({ impact: 3, urgency: 2, priority: 4, category: "facilities", assignedTo: agents.lead.id });
    expect(triageNotes(ticket)).toHaveLength(1);
    expect((await inbox(staffed, agents.lead.id)).filter((m) => String(m.subject).includes(made.number))).toEqual([]);
  });

  it("links a likely duplicate (an older open ticket of the same type) and a known problem", async () => {
    const problem = await open(staffed, { type: "problem", title: "Printer queue on floor 3 jams", workaround: "Restart the print spooler" });
    const original = await open(staffed, { title: "Floor 3 printer queue jammed" });
    await platform.poller.drained();
    const duplicate = await open(staffed, { title: "Printer queue jammed on floor 3" });
    const unrelated = await open(staffed, { title: "Cannot reset my password" });
    await platform.poller.drained();

    const ticket = await read(staffed, duplicate.id);
    expect(ticket.links).toEqual(
      expect.arrayContaining([
        { kind: "duplicate_of", id: original.id, number: original.number },
        { kind: "problem", id: problem.id, number: problem.number },
      ]),
    );
    expect((await read(staffed, original.id)).links).toContainEqual({ kind: "duplicate", id: duplicate.id, number: duplicate.number });
    const other = await read(staffed, unrelated.id);
    expect(other.links.filter((l: { kind: string }) => l.kind === "duplicate_of")).toEqual([]);
    expect(other.category).toBe("access");
  });

  it("triages once when the same insert is delivered again, even concurrently", async () => {
    // An organization whose ITSM agent arrives after the ticket: the poller's delivery finds nobody,
    // so the replays below are the first triage attempts, racing each other.
    const late = await createTenant(platform, { tier: "basic" });
    const manager = await agent(late, "Mo", "ceo");
    const made = await open(late, { title: "Mail down for all users" });
    await platform.poller.drained();
    expect((await read(late, made.id)).triagedAt).toBeUndefined();
    const im = await agent(late, "Ivy", "incident-manager", manager.id);

    const record = await insertRecord(late.org.id, made.id);
    const replies = await Promise.all([triageHandler({ Records: [record] }), triageHandler({ Records: [record] }), triageHandler({ Records: [record] })]);
    const again = await triageHandler({ Records: [record] });

    expect([...replies, again].map((r) => r.batchItemFailures)).toEqual([[], [], [], []]);
    const ticket = await read(late, made.id);
    expect(ticket).toMatchObject({ assignedTo: im.id, priority: 1 });
    expect(triageNotes(ticket)).toHaveLength(1);
    expect((await inbox(late, manager.id)).filter((m) => m.kind === "escalate")).toHaveLength(1);
  });

  it("does nothing for an organization without the ITSM agent of the ticket's type", async () => {
    const unstaffed = await createTenant(platform, { tier: "basic" });
    await agent(unstaffed, "Solo", "ceo");
    const made = await open(unstaffed, { title: "Payroll service down for all users" });
    const change = await open(staffed, { type: "change", title: "Upgrade the mail server" });
    await platform.poller.drained();

    const ticket = await read(unstaffed, made.id);
    expect(ticket).toMatchObject({ impact: 3, urgency: 3, assignedTo: null, category: null });
    expect(ticket.triagedAt).toBeUndefined();
    expect(triageNotes(ticket)).toEqual([]);
    // The staffed organization has no change manager: its change is not triaged either.
    expect((await read(staffed, change.id)).triagedAt).toBeUndefined();
  });
});
