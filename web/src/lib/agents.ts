import type { AgentRecord } from "../../../core/agents/agent.schema";
import type { Role } from "../../../core/agents/roles";
import { api } from "./client";

export type { AgentRecord, Role };

/** A node of `GET /hierarchy`. */
export interface HierarchyNode {
  id: string;
  name: string;
  roleId: string;
  roleName: string;
  level: number;
  levelName: string;
  status: string;
  queuedMessages: number;
  reports: HierarchyNode[];
}

export const LEVEL_NAMES: Record<number, string> = { 1: "CEO", 2: "Senior Manager", 3: "Manager", 4: "Team Lead", 5: "Specialist" };

export interface Directory {
  agents: AgentRecord[];
  roles: Role[];
  byId: Map<string, AgentRecord>;
}

/** Agents and roles, the lookups most views need. */
export async function loadDirectory(signal?: AbortSignal): Promise<Directory> {
  const [agents, roles] = await Promise.all([
    api<{ items: AgentRecord[] }>("/agents", { signal }),
    api<{ items: Role[] }>("/roles", { signal }),
  ]);
  const sorted = agents.items.sort((a, b) => a.level - b.level || a.name.localeCompare(b.name));
  return { agents: sorted, roles: roles.items, byId: new Map(sorted.map((a) => [a.id, a])) };
}

export const agentName = (directory: Directory | undefined, id: string | null | undefined): string =>
  id ? (directory?.byId.get(id)?.name ?? `${id.slice(0, 8)}…`) : "—";
