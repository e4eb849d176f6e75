import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ALL_ENTITIES, auditEntityListMarkdown, entities, entityNamesTreatedAs, registryProblem } from "../../../core/db/entities";
import { keys, type Key } from "../../../core/db/keys";
import { AUDIT_OWN_ENTITY_TYPES, AUDITED_ENTITY_TYPES, IGNORED_ENTITY_TYPES, NOISE_ENTITY_TYPES } from "../../../core/audit/summarize";
import { auditConsumer } from "../../../functions/manifest/audit";

/*
 * The entity registry (core/db/entities.ts): one declaration per item type, from which the audit
 * lists, the stream filter and the format doc's list are derived.
 */

/** One key of every registered type, built by keys.ts as the repositories build it. */
const SAMPLE_KEYS: Record<keyof typeof entities, Key> = {
  organization: keys.organization("org_1"),
  apiKey: keys.apiKey("org_1", "key_1"),
  usage: keys.usage("org_1", "2026-03"),
  keyUsage: keys.keyUsage("org_1", "2026-03", "01j00000000000000000000000"),
  costRecord: keys.usageRecord("org_1", "01J0000000000000000000000"),
  routingFeedback: keys.routingFeedback("org_1", "01J0000000000000000000000"),
  settings: keys.routingSettings("org_1"),
  role: keys.role("org_1", "support-lead"),
  agent: keys.agent("org_1", "agt_1"),
  agentRoot: keys.agentRoot("org_1"),
  agentRun: keys.agentRun("org_1", "agt_1", "run_1"),
  agentMemory: keys.agentMemory("org_1", "agt_1"),
  hierarchyVersion: keys.hierarchy("org_1"),
  message: keys.message("org_1", "agt_1", "msg_1"),
  inbox: keys.inbox("org_1", "agt_1"),
  task: keys.task("org_1", "msg_1"),
  workSettings: keys.workSettings("org_1"),
  workCounter: keys.workDay("org_1", "2026-11-30"),
  counter: keys.counter("org_1", "agents"),
  ticket: keys.ticket("org_1", "tkt_1"),
  ticketHistory: keys.ticketHistory("org_1", "tkt_1", 3),
  ticketNumber: keys.ticketNumber("org_1", "INC0001001"),
  wsToken: keys.wsToken("org_1", "tok_1"),
  connection: keys.connection("org_1", "conn="),
  rateWindow: keys.rateWindow("org_1", "key#key_1"),
  auditEntry: keys.auditEntry("org_1", 42),
  auditHead: keys.auditHead("org_1"),
  auditCheckpoint: keys.auditCheckpoint("org_1", 42),
  auditSource: keys.auditSource("org_1", "evt_1"),
  auditPending: keys.auditPending("org_1", "evt_1"),
  auditKey: keys.auditKey("abc"),
  streamLoss: keys.streamLoss("audit", "shard-1", "100"),
  purgedOrganization: keys.purged("org_1"),
};

describe("entity registry", () => {
  it("declares each type once, under its own name", () => {
    for (const [property, entity] of Object.entries(entities)) expect(entity.name).toBe(property);
    expect(new Set(ALL_ENTITIES.map((e) => e.name)).size).toBe(ALL_ENTITIES.length);
  });

  it("matches the key shapes keys.ts builds, and only its own", () => {
    for (const [name, key] of Object.entries(SAMPLE_KEYS)) {
      expect(registryProblem({ ...key, entity: name }), name).toBeNull();
      // Any other type's shape rejects it, so a key built by the wrong builder is caught.
      const others = ALL_ENTITIES.filter((e) => e.name !== name && registryProblem({ ...key, entity: e.name }) === null).map((e) => e.name);
      expect(others, name).toEqual([]);
    }
    // The second key builders of a type fit its shape too.
    expect(registryProblem({ ...keys.ticketSettings("org_1"), entity: "settings" })).toBeNull();
    expect(registryProblem({ ...keys.ticketNumberCounter("org_1", "INC"), entity: "counter" })).toBeNull();
  });

  it("reports an unregistered type, a missing type and a foreign key shape with the key", () => {
    expect(registryProblem({ pk: "T#org_1", sk: "X#1", entity: "routingDecision" })).toMatch(/pk="T#org_1" sk="X#1": entity 'routingDecision' is not registered/);
    expect(registryProblem({ pk: "T#org_1", sk: "X#1" })).toMatch(/no entity attribute/);
    expect(registryProblem({ ...keys.ticket("org_1", "t"), entity: "agent" })).toMatch(/not the key shape of entity 'agent'/);
  });

  it("gives every type exactly one audit treatment, platform items only to platform-scoped types", () => {
    const treated = ["recorded", "noise", "own", "platform"].flatMap((t) => entityNamesTreatedAs(t as never));
    expect(treated.sort()).toEqual(ALL_ENTITIES.map((e) => e.name).sort());
    for (const name of entityNamesTreatedAs("platform")) expect(entities[name as keyof typeof entities].declaration.scope).toBe("platform");
    for (const e of ALL_ENTITIES.filter((e) => e.declaration.audit === "noise")) expect(e.declaration.why, e.name).toBeTruthy();
  });

  it("feeds the audit summarizer's lists and the stream filter", () => {
    expect(AUDITED_ENTITY_TYPES).toEqual(entityNamesTreatedAs("recorded"));
    expect(NOISE_ENTITY_TYPES).toEqual(entityNamesTreatedAs("noise"));
    expect(AUDIT_OWN_ENTITY_TYPES).toEqual(entityNamesTreatedAs("own"));
    expect(JSON.stringify(auditConsumer.filterPatterns)).toContain(JSON.stringify([...IGNORED_ENTITY_TYPES]));
    // The drift the registry fixed: types that are written are listed, types never written are not.
    expect(AUDITED_ENTITY_TYPES).toEqual(expect.arrayContaining(["ticketHistory", "agentRun", "agentRoot", "costRecord"]));
    expect([...AUDITED_ENTITY_TYPES, ...IGNORED_ENTITY_TYPES]).not.toContain("routingDecision");
    expect(NOISE_ENTITY_TYPES).toEqual(expect.arrayContaining(["hierarchyVersion", "rateWindow", "connection"]));
    // Derived counters stay out of the log (issue 11: a chat completion is one entry, its cost record).
    expect(NOISE_ENTITY_TYPES).toEqual(expect.arrayContaining(["usage", "counter", "ticketNumber"]));
  });

  it("is what docs/audit-log-format.md lists", () => {
    const doc = readFileSync(join(import.meta.dirname, "../../../docs/audit-log-format.md"), "utf8");
    const listed = /<!-- entities:start -->\n([\s\S]*?)\n<!-- entities:end -->/.exec(doc)?.[1];

    // On a difference, paste the expected text between the markers.
    expect(listed).toBe(auditEntityListMarkdown());
  });

  it("strips each type's table-only attributes before the domain sees an item", () => {
    const stored = { ...keys.ticket("org_1", "t1"), ...keys.ticketOpenIndex("org_1", "t1"), entity: "ticket", id: "t1", title: "x", searchText: "x", updatedBy: "key:k" };
    expect(entities.ticket.fromItem(stored)).toEqual({ id: "t1", title: "x", updatedBy: "key:k" });
    expect(entities.role.fromItem({ ...keys.role("org_1", "r"), entity: "role", id: "r", holders: 2, orgId: "org_1", updatedBy: "op" })).toEqual({ id: "r" });
    expect(entities.agent.fromItem(undefined)).toBeUndefined();
  });
});
