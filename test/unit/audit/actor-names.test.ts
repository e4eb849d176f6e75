import { describe, expect, it } from "vitest";
import { createActorNames } from "../../../core/audit/actor-names";

/** In-memory sources (core with fakes): what is counted is how often each is asked. */
function sources() {
  const calls = { keys: 0, agents: 0 };
  return {
    calls,
    keys: {
      list: async (_orgId: string) => (calls.keys++, [{ id: "01jkey0000000000000000000a", name: "helpdesk-bot" }] as never[]),
    },
    agents: {
      list: async (_orgId: string) => (calls.agents++, [{ id: "01jagent000000000000000000", name: "Hal" }] as never[]),
    },
  };
}

describe("audit actor names", () => {
  it("names keys, agents, the operator and the system, and keeps the id of an actor that is gone", async () => {
    const s = sources();
    const names = createActorNames(s);

    const result = await names("org", [
      "key:01jkey0000000000000000000a",
      "agent:01jagent000000000000000000",
      "operator",
      "system:ttl",
      "key:01jgone000000000000000000",
      null,
      "key:01jkey0000000000000000000a",
    ]);

    expect(result).toEqual({
      "key:01jkey0000000000000000000a": "helpdesk-bot",
      "agent:01jagent000000000000000000": "Hal",
      operator: "operator",
      "system:ttl": "system",
      "key:01jgone000000000000000000": "key:01jgone000000000000000000",
    });
    expect(s.calls).toEqual({ keys: 1, agents: 1 });
  });

  it("reads nothing for a page without key or agent actors", async () => {
    const s = sources();

    const result = await createActorNames(s)("org", ["operator", null]);

    expect(result).toEqual({ operator: "operator" });
    expect(s.calls).toEqual({ keys: 0, agents: 0 });
  });
});
