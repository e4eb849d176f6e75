import { describe, expect, it } from "vitest";
import type { AgentRecord } from "../../../core/agents/agent.schema";
import { allowedRecipients, buildTree, route, type MessageKind } from "../../../core/agents/hierarchy";

/**
 * The console offers recipients from `allowedRecipients`; the server refuses with `route`. The two must
 * agree for every sender, kind and recipient of a small but branching tree, or the form would offer a
 * recipient that the server answers with 403 (or hide one it accepts).
 */
const agent = (id: string, level: number, managerId: string | null): AgentRecord => ({
  id,
  name: id,
  roleId: "r",
  level,
  managerId,
  status: "active",
  routing: "auto",
  createdAt: "2026-11-30T00:00:00.000Z",
  updatedAt: "2026-11-30T00:00:00.000Z",
});
const agents = [agent("ceo", 1, null), agent("vp1", 2, "ceo"), agent("vp2", 2, "ceo"), agent("m1", 3, "vp1"), agent("m2", 3, "vp1"), agent("s1", 5, "m1"), agent("x", 3, "vp2")];
const tree = buildTree(agents);

function accepted(kind: MessageKind, from: string, to: string): boolean {
  try {
    route(tree, kind, from, to);
    return true;
  } catch {
    return false;
  }
}

describe("allowedRecipients", () => {
  for (const kind of ["direct", "delegate", "escalate"] as const) {
    it(`offers exactly the ${kind} recipients the server accepts`, () => {
      for (const from of agents) {
        const offered = allowedRecipients(tree, kind, from.id).map((a) => a.id).sort();
        const acceptedIds = agents.filter((to) => accepted(kind, from.id, to.id)).map((a) => a.id).sort();
        expect(offered, `${kind} from ${from.id}`).toEqual(acceptedIds);
      }
    });
  }

  it("names the subtree for delegation and the manager for escalation", () => {
    expect(allowedRecipients(tree, "delegate", "vp1").map((a) => a.id).sort()).toEqual(["m1", "m2", "s1"]);
    expect(allowedRecipients(tree, "escalate", "m1").map((a) => a.id)).toEqual(["vp1"]);
    expect(allowedRecipients(tree, "escalate", "ceo")).toEqual([]);
    expect(allowedRecipients(tree, "delegate", "s1")).toEqual([]);
    expect(allowedRecipients(tree, "broadcast", "ceo")).toEqual([]);
  });
});
