import { conflict, forbidden, invalidInput, notFound } from "../errors";
import type { AgentRecord } from "./agent.schema";

/**
 * The organization's agent tree and its rules, pure: who may manage whom, who may message whom, and
 * by which path. Levels strictly increase downwards (a manager's level number is lower than its
 * reports'), which by itself makes a cycle impossible; `assertPlacement` still checks the subtree
 * explicitly, so a corrupted tree cannot loop.
 */
export interface Tree {
  byId: Map<string, AgentRecord>;
  children: Map<string, AgentRecord[]>;
  roots: AgentRecord[];
}

export function buildTree(agents: readonly AgentRecord[]): Tree {
  const byId = new Map(agents.map((a) => [a.id, a]));
  const children = new Map<string, AgentRecord[]>();
  const roots: AgentRecord[] = [];
  for (const agent of agents) {
    if (agent.managerId && byId.has(agent.managerId)) {
      const list = children.get(agent.managerId) ?? [];
      list.push(agent);
      children.set(agent.managerId, list);
    } else roots.push(agent);
  }
  for (const list of children.values()) list.sort((a, b) => a.level - b.level || a.name.localeCompare(b.name));
  return { byId, children, roots };
}

export function get(tree: Tree, id: string): AgentRecord {
  const agent = tree.byId.get(id);
  if (!agent) throw notFound("Agent", id);
  return agent;
}

/** The agent's managers, nearest first. */
export function ancestors(tree: Tree, id: string): AgentRecord[] {
  const out: AgentRecord[] = [];
  const seen = new Set<string>([id]);
  let current = tree.byId.get(id)?.managerId;
  while (current && !seen.has(current)) {
    const manager = tree.byId.get(current);
    if (!manager) break;
    out.push(manager);
    seen.add(current);
    current = manager.managerId;
  }
  return out;
}

/** Everyone below the agent (not the agent itself), breadth first. */
export function subtree(tree: Tree, id: string): AgentRecord[] {
  const out: AgentRecord[] = [];
  const queue = [...(tree.children.get(id) ?? [])];
  const seen = new Set<string>([id]);
  while (queue.length) {
    const next = queue.shift()!;
    if (seen.has(next.id)) continue;
    seen.add(next.id);
    out.push(next);
    queue.push(...(tree.children.get(next.id) ?? []));
  }
  return out;
}

/** Hops from `from` to `to` through the hierarchy: up to the lowest common manager, then down. */
export function pathBetween(tree: Tree, from: string, to: string): string[] {
  const up = [from, ...ancestors(tree, from).map((a) => a.id)];
  const down = [to, ...ancestors(tree, to).map((a) => a.id)];
  const common = up.find((id) => down.includes(id));
  if (!common) throw forbidden("The agents are in separate trees: no path connects them.", "no_hierarchy_path");
  return [...up.slice(0, up.indexOf(common) + 1), ...down.slice(0, down.indexOf(common)).reverse()];
}

export type MessageKind = "direct" | "delegate" | "escalate" | "broadcast";

export interface Delivery {
  to: string;
  /** Sender first, recipient last. */
  path: string[];
}

/**
 * The hierarchy's messaging rules. Refusals are 403 with a code naming the rule:
 * - direct: anyone; the manager, direct reports and peers in one hop, anyone else through the lowest
 *   common manager (every hop recorded);
 * - delegate: only inside the sender's own subtree (`delegate_outside_subtree`);
 * - escalate: only to the sender's manager (`escalate_not_to_manager`; the root has none:
 *   `escalate_from_root`);
 * - broadcast: to the sender's whole subtree (`broadcast_without_reports` when it has none).
 */
export function route(tree: Tree, kind: MessageKind, senderId: string, to?: string): Delivery[] {
  const sender = get(tree, senderId);
  if (to !== undefined && to === sender.id) throw invalidInput("An agent cannot message itself.", [{ field: "to", message: "must differ from the sender" }], "message_to_self");
  if (to !== undefined) get(tree, to);
  switch (kind) {
    case "direct": {
      if (!to) throw invalidInput("A direct message needs a recipient.", [{ field: "to", message: "required for direct messages" }]);
      const recipient = get(tree, to);
      const near = recipient.id === sender.managerId || recipient.managerId === sender.id || (recipient.managerId !== null && recipient.managerId === sender.managerId);
      return [{ to, path: near ? [sender.id, to] : pathBetween(tree, sender.id, to) }];
    }
    case "delegate": {
      if (!to) throw invalidInput("A delegation needs a recipient.", [{ field: "to", message: "required for delegations" }]);
      if (!allowedRecipients(tree, "delegate", sender.id).some((a) => a.id === to)) {
        throw forbidden(`Rule delegate_outside_subtree: ${sender.name} can only delegate inside its own subtree.`, "delegate_outside_subtree", { rule: "delegate_outside_subtree" });
      }
      return [{ to, path: pathDown(tree, sender.id, to) }];
    }
    case "escalate": {
      if (!sender.managerId) throw forbidden(`Rule escalate_from_root: ${sender.name} has no manager to escalate to.`, "escalate_from_root", { rule: "escalate_from_root" });
      if (to !== undefined && to !== sender.managerId) {
        throw forbidden(`Rule escalate_not_to_manager: ${sender.name} can only escalate to its manager.`, "escalate_not_to_manager", { rule: "escalate_not_to_manager" });
      }
      return [{ to: sender.managerId, path: [sender.id, sender.managerId] }];
    }
    case "broadcast": {
      if (to !== undefined) throw invalidInput("A broadcast goes to the whole subtree: give no recipient.", [{ field: "to", message: "not allowed for broadcasts" }]);
      const below = subtree(tree, sender.id);
      if (!below.length) throw forbidden(`Rule broadcast_without_reports: ${sender.name} has no subtree to broadcast to.`, "broadcast_without_reports", { rule: "broadcast_without_reports" });
      return below.map((a) => ({ to: a.id, path: pathDown(tree, sender.id, a.id) }));
    }
  }
}

/**
 * Who `senderId` may name as the recipient of a `kind` message: the same rules `route` enforces, so the
 * console (web/src/views/messages.ts imports this) offers only recipients the server will accept.
 * direct: everyone else; delegate: the sender's subtree; escalate: its manager (none for the root);
 * broadcast: nobody (it names no recipient).
 */
export function allowedRecipients(tree: Tree, kind: MessageKind, senderId: string): AgentRecord[] {
  const sender = tree.byId.get(senderId);
  if (!sender) return [];
  switch (kind) {
    case "direct":
      return [...tree.byId.values()].filter((a) => a.id !== senderId);
    case "delegate":
      return subtree(tree, senderId);
    case "escalate": {
      const manager = sender.managerId ? tree.byId.get(sender.managerId) : undefined;
      return manager ? [manager] : [];
    }
    case "broadcast":
      return [];
  }
}

function pathDown(tree: Tree, from: string, to: string): string[] {
  const chain = [to, ...ancestors(tree, to).map((a) => a.id)];
  return chain.slice(0, chain.indexOf(from) + 1).reverse();
}

/**
 * Where an agent of `level` may sit: under a manager of a strictly lower level number, and never under
 * itself or anyone in its own subtree. Only a level-1 agent may have no manager.
 */
export function assertPlacement(tree: Tree, agent: { id?: string; level: number }, managerId: string | null): void {
  if (managerId === null) {
    if (agent.level !== 1) throw conflict("Only a CEO-level (level 1) agent can be the root; give a managerId.", "manager_required");
    const root = tree.roots.find((r) => r.id !== agent.id && r.managerId === null);
    if (root) throw conflict(`The organization already has a root agent (${root.name}).`, "root_exists", { rootId: root.id });
    return;
  }
  const manager = tree.byId.get(managerId);
  if (!manager) throw notFound("Agent", managerId);
  if (agent.id && (managerId === agent.id || subtree(tree, agent.id).some((a) => a.id === managerId))) {
    throw conflict("That would make a cycle: the new manager is the agent itself or one of its reports.", "hierarchy_cycle");
  }
  if (manager.level >= agent.level) {
    throw conflict(`A level-${agent.level} agent needs a manager of a higher level (lower number) than itself; ${manager.name} is level ${manager.level}.`, "manager_level_invalid");
  }
}
