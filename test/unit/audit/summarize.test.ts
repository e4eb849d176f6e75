import { describe, expect, it } from "vitest";
import {
  AUDIT_OWN_ENTITY_TYPES,
  AUDITED_ENTITY_TYPES,
  NOISE_ENTITY_TYPES,
  TTL_ACTOR,
  toAuditChange,
  type StreamChangeRecord,
} from "../../../core/audit/summarize";

const at = Date.UTC(2026, 2, 2, 9, 15, 0) / 1000; // epoch seconds, as in Lambda events

function item(entity: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    pk: "T#org_a",
    sk: `${entity.toUpperCase()}#x1`,
    gsi1pk: "IDX",
    gsi1sk: "x1",
    entity,
    orgId: "org_a",
    id: "x1",
    createdAt: "2026-03-01T00:00:00.000Z",
    updatedAt: "2026-03-01T00:00:00.000Z",
    updatedBy: "operator",
    ...extra,
  };
}

function record(eventName: StreamChangeRecord["eventName"], images: Pick<StreamChangeRecord, "oldImage" | "newImage">, extra: Partial<StreamChangeRecord> = {}): StreamChangeRecord {
  return { eventName, eventId: "evt-1", sequenceNumber: "100", approximateCreationTime: at, ...images, ...extra };
}

describe("toAuditChange", () => {
  it("turns an insert into a change with the tenant, entity, actor, time and source", () => {
    const newImage = item("ticket", { title: "Printer jam", priority: 2, updatedBy: "agent:agt_1" });

    const change = toAuditChange(record("INSERT", { newImage }));

    expect(change).toEqual({
      orgId: "org_a",
      time: "2026-03-02T09:15:00.000Z",
      action: "insert",
      entity: { type: "ticket", id: "x1" },
      actor: "agent:agt_1",
      summary: { fields: ["priority", "title"], redacted: [], before: {}, after: { priority: 2, title: "Printer jam" } },
      source: { eventId: "evt-1", sequenceNumber: "100" },
    });
  });

  it("keeps bookkeeping attributes out of the summary", () => {
    const newImage = item("agent", { name: "CEO", ttl: 123, gsi2pk: "X", gsi2sk: "Y" });

    const change = toAuditChange(record("INSERT", { newImage }))!;

    expect(change.summary.fields).toEqual(["name"]);
    expect(Object.keys(change.summary.after)).toEqual(["name"]);
  });

  it("records only the fields that changed in a modify, with before and after values", () => {
    const oldImage = item("ticket", { title: "Printer jam", status: "open", notes: ["a"], priority: 2 });
    const newImage = item("ticket", { title: "Printer jam", status: "closed", notes: ["a", "b"], resolution: "fixed", updatedAt: "2026-03-02T09:15:00.000Z" });

    const change = toAuditChange(record("MODIFY", { oldImage, newImage }))!;

    expect(change.action).toBe("modify");
    expect(change.summary).toEqual({
      fields: ["notes", "priority", "resolution", "status"],
      redacted: [],
      before: { notes: ["a"], priority: 2, status: "open" },
      after: { notes: ["a", "b"], resolution: "fixed", status: "closed" },
    });
  });

  it("records a remove with the old values and an empty after", () => {
    const oldImage = item("role", { name: "Support lead" });

    const change = toAuditChange(record("REMOVE", { oldImage }))!;

    expect(change).toMatchObject({ action: "remove", actor: null, summary: { fields: ["name"], before: { name: "Support lead" }, after: {} } });
  });

  describe("secrets", () => {
    it("records that secretHash changed, never its value", () => {
      const oldImage = item("apiKey", { name: "ci", secretHash: "old-hash-value" });
      const newImage = item("apiKey", { name: "ci", secretHash: "new-hash-value", updatedAt: "2026-03-02T09:15:00.000Z" });

      const change = toAuditChange(record("MODIFY", { oldImage, newImage }))!;

      expect(change.summary).toEqual({ fields: ["secretHash"], redacted: ["/secretHash"], before: {}, after: {} });
      expect(JSON.stringify(change)).not.toMatch(/hash-value/);
    });

    it("treats any name with secret, password or token (any case) as secret, at any depth", () => {
      const newImage = item("settings", {
        clientSecret: "s1",
        adminPassword: "s2",
        accessToken: "s3",
        webhook: { url: "https://example.test/hook", authTOKEN: "s4", nested: [{ Password: "s5", keep: 1 }] },
      });

      const change = toAuditChange(record("INSERT", { newImage }))!;

      expect(change.summary.fields).toEqual(["accessToken", "adminPassword", "clientSecret", "webhook"]);
      expect(change.summary.redacted).toEqual(["/accessToken", "/adminPassword", "/clientSecret", "/webhook/authTOKEN", "/webhook/nested/0/Password"]);
      expect(change.summary.after).toEqual({ webhook: { url: "https://example.test/hook", nested: [{ keep: 1 }] } });
      expect(JSON.stringify(change)).not.toMatch(/"s[1-5]"/);
    });

    it("lists a nested secret only when its value changed", () => {
      const webhook = { url: "https://example.test/a", token: "t-old" };
      const oldImage = item("settings", { webhook });
      const newImage = item("settings", { webhook: { ...webhook, url: "https://example.test/b" }, updatedAt: "2026-03-02T09:15:00.000Z" });
      const rotated = item("settings", { webhook: { ...webhook, token: "t-new" }, updatedAt: "2026-03-02T09:15:00.000Z" });

      const urlOnly = toAuditChange(record("MODIFY", { oldImage, newImage }))!;
      const tokenOnly = toAuditChange(record("MODIFY", { oldImage, newImage: rotated }))!;

      expect(urlOnly.summary).toMatchObject({ fields: ["webhook"], redacted: [], after: { webhook: { url: "https://example.test/b" } } });
      expect(tokenOnly.summary).toEqual({
        fields: ["webhook"],
        redacted: ["/webhook/token"],
        before: { webhook: { url: "https://example.test/a" } },
        after: { webhook: { url: "https://example.test/a" } },
      });
    });

    it("escapes secret member names in pointers as RFC 6901 says", () => {
      const newImage = item("settings", { "a/b~token": "x" });

      const change = toAuditChange(record("INSERT", { newImage }))!;

      expect(change.summary.redacted).toEqual(["/a~1b~0token"]);
    });
  });

  describe("records that are not audited", () => {
    it.each([...NOISE_ENTITY_TYPES, ...AUDIT_OWN_ENTITY_TYPES])("ignores %s items", (entity) => {
      const newImage = item(entity, { anything: 1 });

      expect(toAuditChange(record("INSERT", { newImage }))).toBeNull();
      expect(toAuditChange(record("REMOVE", { oldImage: newImage }))).toBeNull();
    });

    it.each([...AUDITED_ENTITY_TYPES])("audits %s items", (entity) => {
      const newImage = item(entity, { anything: 1 });

      expect(toAuditChange(record("INSERT", { newImage }))?.entity.type).toBe(entity);
    });

    it("audits an entity type nobody listed yet (an audit log errs on the side of recording)", () => {
      expect(toAuditChange(record("INSERT", { newImage: item("workflow", { step: 1 }) }))?.entity.type).toBe("workflow");
    });

    it("ignores items outside any tenant and items without an entity type", () => {
      const platform = { ...item("organization", { name: "x" }), pk: "P#ORGS" };
      const untyped = item("ticket", { title: "x" });
      delete untyped.entity;

      expect(toAuditChange(record("INSERT", { newImage: platform }))).toBeNull();
      expect(toAuditChange(record("INSERT", { newImage: { ...platform, pk: "T#" } }))).toBeNull();
      expect(toAuditChange(record("INSERT", { newImage: untyped }))).toBeNull();
    });

    it("ignores a modify that changed only bookkeeping attributes", () => {
      const oldImage = item("apiKey", { name: "ci", revokedAt: "2026-03-01T00:00:00.000Z" });
      const newImage = { ...oldImage, updatedAt: "2026-03-02T09:15:00.000Z", updatedBy: "key:k2", gsi1sk: "y", ttl: 99 };

      expect(toAuditChange(record("MODIFY", { oldImage, newImage }))).toBeNull();
    });

    it("does not treat a re-ordered map as a change", () => {
      const oldImage = item("settings", { limits: { a: 1, b: 2 } });
      const newImage = item("settings", { limits: { b: 2, a: 1 }, updatedAt: "2026-03-02T09:15:00.000Z" });

      expect(toAuditChange(record("MODIFY", { oldImage, newImage }))).toBeNull();
    });
  });

  describe("actor", () => {
    it("takes updatedBy when the write restamped the item", () => {
      const oldImage = item("agent", { name: "a", updatedBy: "operator" });
      const newImage = item("agent", { name: "b", updatedBy: "key:k1", updatedAt: "2026-03-02T09:15:00.000Z" });

      expect(toAuditChange(record("MODIFY", { oldImage, newImage }))?.actor).toBe("key:k1");
    });

    it("is null when a modify did not restamp, so the previous writer is not blamed", () => {
      const oldImage = item("role", { holders: 4, updatedBy: "operator" });
      const newImage = { ...oldImage, holders: 5 };

      const change = toAuditChange(record("MODIFY", { oldImage, newImage }))!;

      expect(change.actor).toBeNull();
      expect(change.summary).toMatchObject({ fields: ["holders"], before: { holders: 4 }, after: { holders: 5 } });
    });

    it("is null for an insert without updatedBy and for a remove", () => {
      const { updatedBy: _u, ...unstamped } = item("settings", { threshold: 0.5 });

      expect(toAuditChange(record("INSERT", { newImage: unstamped }))?.actor).toBeNull();
      expect(toAuditChange(record("REMOVE", { oldImage: item("ticket", { title: "x" }) }))?.actor).toBeNull();
    });

    it("names DynamoDB's TTL process for expiry deletions", () => {
      const identity = { type: "Service", principalId: "dynamodb.amazonaws.com" };

      const change = toAuditChange(record("REMOVE", { oldImage: item("message", { text: "x" }) }, { userIdentity: identity }));

      expect(change?.actor).toBe(TTL_ACTOR);
    });
  });

  describe("identity and time", () => {
    it("names items without an id by their sort key, and takes orgId from the partition key", () => {
      const { id: _id, ...settings } = item("settings", { threshold: 0.5 });
      const newImage = { ...settings, pk: "T#org_b#SHARD1", sk: "SETTINGS#routing", orgId: "forged" };

      const change = toAuditChange(record("INSERT", { newImage }))!;

      expect(change.entity).toEqual({ type: "settings", id: "SETTINGS#routing" });
      expect(change.orgId).toBe("org_b");
    });

    it("accepts the time as epoch seconds, Date or ISO string, and writes ISO with milliseconds", () => {
      const newImage = item("ticket", { title: "x" });
      const times = [1772442900.5, new Date("2026-03-02T09:15:00.5Z"), "2026-03-02T09:15:00.500Z"];

      const written = times.map((t) => toAuditChange(record("INSERT", { newImage }, { approximateCreationTime: t }))!.time);

      expect(written).toEqual(Array(3).fill("2026-03-02T09:15:00.500Z"));
    });

    it("maps sets, binaries and bigints to JSON", () => {
      const newImage = item("agent", { tags: new Set(["b", "a"]), avatar: new Uint8Array([1, 2, 255]), big: 12345678901234567890n });

      const change = toAuditChange(record("INSERT", { newImage }))!;

      expect(change.summary.after).toEqual({ tags: ["a", "b"], avatar: "AQL/", big: "12345678901234567890" });
    });
  });

  describe("invalid records", () => {
    it("throws when the stream lacks the image an event needs", () => {
      expect(() => toAuditChange(record("INSERT", {}))).toThrow(expect.objectContaining({ code: "audit_record_invalid" }));
      expect(() => toAuditChange(record("MODIFY", { newImage: item("ticket") }))).toThrow(/NEW_AND_OLD_IMAGES/);
    });

    it("throws on an unreadable time", () => {
      const newImage = item("ticket", { title: "x" });

      expect(() => toAuditChange(record("INSERT", { newImage }, { approximateCreationTime: "yesterday" }))).toThrow(
        expect.objectContaining({ code: "audit_record_invalid" }),
      );
    });
  });
});
