import type { AgentStore } from "../agents/ports";
import type { ApiKeyStore } from "../tenants/ports";

/** Where display names of an organization's actors come from: its API keys and its agents. */
export interface ActorNameSources {
  keys: Pick<ApiKeyStore, "list">;
  agents: Pick<AgentStore, "list">;
}

/**
 * Display names for the actors of audit entries: `key:<id>` -> the key's name, `agent:<id>` -> the
 * agent's name, `operator` -> "operator", `system…` (TTL deletions) -> "system"; an actor whose key or
 * agent is gone keeps its id.
 *
 * Why at read time, unlike tickets (which store the name next to the id when written): an audit entry
 * is hash-chained with a fixed set of members (docs/audit-log-format.md), so it cannot carry a name
 * without changing the format every verifier checks. The cost is bounded per page, not per entry: at
 * most one query of the organization's keys and one of its agents, each only if the page names one.
 */
export function createActorNames({ keys, agents }: ActorNameSources) {
  return async function actorNames(orgId: string, actors: readonly (string | null)[]): Promise<Record<string, string>> {
    const wanted = [...new Set(actors.filter((a): a is string => typeof a === "string" && a !== ""))];
    if (!wanted.length) return {};
    const [keyList, agentList] = await Promise.all([
      wanted.some((a) => a.startsWith("key:")) ? keys.list(orgId) : [],
      wanted.some((a) => a.startsWith("agent:")) ? agents.list(orgId) : [],
    ]);
    const byActor = new Map<string, string>([
      ...keyList.map((k) => [`key:${k.id}`, k.name] as const),
      ...agentList.map((a) => [`agent:${a.id}`, a.name] as const),
    ]);
    const names: Record<string, string> = {};
    for (const actor of wanted) {
      names[actor] = actor === "operator" ? "operator" : actor.startsWith("system") ? "system" : (byActor.get(actor) ?? actor);
    }
    return names;
  };
}

export type ActorNames = ReturnType<typeof createActorNames>;
