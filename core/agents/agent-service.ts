import { conflict, forbidden, notFound, quotaExceeded } from "../errors";
import { newId } from "../ids";
import type { Principal } from "../auth/principal";
import type { EventPublisher } from "../realtime/events";
import { type Clock, systemClock } from "../shared/clock";
import { untilWritten } from "../shared/retry";
import type { OrganizationStore, PageRequest } from "../tenants/ports";
import type { AgentRecord, ConversationEntry, CreateAgentInput, CreateRoleInput, MessageMeta, MessageRecord, SendMessageInput, UpdateAgentInput, UpdateRoleInput } from "./agent.schema";
import { assertPlacement, buildTree, get, pathBetween, route, subtree } from "./hierarchy";
import type { AgentStore, AgentWrite, MessageStore, RoleHolders, RoleStore } from "./ports";
import { BUILT_IN_ROLES, LEVEL_NAMES, type Role, builtInRole } from "./roles";

export interface AgentServiceDeps {
  roles: RoleStore;
  agents: AgentStore;
  messages: MessageStore;
  orgs: OrganizationStore;
  events: EventPublisher;
  clock?: Clock;
}

export interface HierarchyNode {
  id: string;
  name: string;
  roleId: string;
  roleName: string;
  level: number;
  levelName: string;
  status: AgentRecord["status"];
  queuedMessages: number;
  reports: HierarchyNode[];
}

/** Who acts: an organization's key (a person or system) or an agent itself in a tool call. */
export interface Acting {
  orgId: string;
  actor: string;
}

/** Attempts of a change that keeps losing to concurrent changes before it answers 409. */
const MAX_ATTEMPTS = 6;

/** The holder-count change of giving (+1) or taking (-1) a role: custom roles only. */
function holding(role: Role | undefined, delta: number): RoleHolders {
  return role && !role.builtIn ? { [role.id]: delta } : {};
}

/** Runs a hierarchy change until its conditional write goes through (core/shared/retry.ts). */
const retrying = <T>(attempt: () => Promise<T | undefined>): Promise<T> =>
  untilWritten(attempt, { attempts: MAX_ATTEMPTS, gaveUp: "The hierarchy kept changing while this change was applied; read it again and retry." });

export function actingOf(principal: Principal): Acting {
  if (principal.kind !== "org") throw forbidden("Agents belong to an organization: use its API key.", "org_key_required");
  return { orgId: principal.orgId, actor: `key:${principal.keyId}` };
}

/**
 * Roles, agents, the hierarchy and messaging along it. Hierarchy rules are in hierarchy.ts (pure);
 * this service loads the organization's tree, applies them, and stores the outcome atomically.
 */
export function createAgentService({ roles, agents, messages, orgs, events, clock = systemClock }: AgentServiceDeps) {
  async function roleOf(orgId: string, id: string): Promise<Role> {
    const role = builtInRole(id) ?? (await roles.get(orgId, id));
    if (!role) throw notFound("Role", id);
    return role;
  }

  async function tree(orgId: string) {
    return buildTree(await agents.list(orgId));
  }

  /** The tree and the hierarchy state it belongs to (read first: a change in between fails the write). */
  async function snapshot(orgId: string) {
    const state = await agents.hierarchyState(orgId);
    return { state, tree: await tree(orgId) };
  }

  /** A message a person or an agent sends, or a report (work queue only) from a subordinate back up. */
  type ComposeInput = Omit<SendMessageInput, "kind"> & { kind: MessageRecord["kind"] };

  /**
   * The records of a message as the hierarchy routes it, not yet delivered (the work queue delivers a
   * report in the transaction that ends the task it reports on). `meta` is the work queue's.
   */
  async function compose(acting: Acting, senderId: string, input: ComposeInput, meta: MessageMeta = {}): Promise<MessageRecord[]> {
    const t = await tree(acting.orgId);
    const deliveries =
      input.kind === "report"
        ? [{ to: get(t, input.to ?? "").id, path: pathBetween(t, get(t, senderId).id, input.to!) }]
        : route(t, input.kind, senderId, input.to);
    const now = clock.now().toISOString();
    const records: MessageRecord[] = deliveries.map((d) => ({
      id: newId(),
      kind: input.kind,
      from: senderId,
      to: d.to,
      ...(input.subject ? { subject: input.subject } : {}),
      body: input.body,
      status: "queued",
      path: d.path,
      createdAt: now,
      updatedAt: now,
      sentBy: acting.actor,
      ...meta,
    }));
    return records;
  }

  async function send(acting: Acting, senderId: string, input: SendMessageInput, meta: MessageMeta = {}): Promise<MessageRecord[]> {
    const records = await compose(acting, senderId, input, meta);
    const now = records[0]?.createdAt ?? clock.now().toISOString();
    await messages.deliver(acting.orgId, records);
    for (const record of records) {
      await events.publish({ type: "message.created", orgId: acting.orgId, time: now, data: { message: record } });
    }
    return records;
  }

  return {
    roleOf,
    tree,
    send,
    compose,

    async listRoles(principal: Principal): Promise<Role[]> {
      const { orgId } = actingOf(principal);
      return [...BUILT_IN_ROLES, ...(await roles.list(orgId)).sort((a, b) => a.level - b.level || a.name.localeCompare(b.name))];
    },

    async getRole(principal: Principal, id: string): Promise<Role> {
      return roleOf(actingOf(principal).orgId, id);
    },

    async createRole(principal: Principal, input: CreateRoleInput): Promise<Role> {
      const { orgId, actor } = actingOf(principal);
      const now = clock.now().toISOString();
      const role: Role = { id: newId(), ...input, builtIn: false, createdAt: now, updatedAt: now };
      await roles.create(orgId, role, actor);
      return { ...role, version: 1 };
    },

    async updateRole(principal: Principal, id: string, input: UpdateRoleInput): Promise<Role> {
      const { orgId, actor } = actingOf(principal);
      return retrying(async () => {
        const role = await roleOf(orgId, id);
        if (role.builtIn) throw conflict(`Built-in role '${id}' cannot be changed: create a custom role instead.`, "built_in_role");
        if (input.level !== undefined && input.level !== role.level) {
          const holders = (await agents.list(orgId)).filter((a) => a.roleId === id);
          if (holders.length) throw conflict("The level of a role in use cannot change: agents' places in the hierarchy depend on it.", "role_in_use");
        }
        const expected = role.version ?? 0;
        const updated: Role = { ...role, ...input, updatedAt: clock.now().toISOString(), version: expected + 1 };
        return (await roles.replace(orgId, updated, expected, actor)) === "ok" ? updated : undefined;
      });
    },

    async deleteRole(principal: Principal, id: string): Promise<void> {
      const { orgId } = actingOf(principal);
      const role = await roleOf(orgId, id);
      if (role.builtIn) throw conflict(`Built-in role '${id}' cannot be deleted.`, "built_in_role");
      await roles.remove(orgId, id);
    },

    async listAgents(principal: Principal): Promise<AgentRecord[]> {
      const { orgId } = actingOf(principal);
      return (await agents.list(orgId)).sort((a, b) => a.level - b.level || a.name.localeCompare(b.name));
    },

    async getAgent(principal: Principal, id: string): Promise<AgentRecord> {
      const { orgId } = actingOf(principal);
      const agent = await agents.get(orgId, id);
      if (!agent) throw notFound("Agent", id);
      return agent;
    },

    /** A new agent under a manager of a higher level; the tier's agent quota holds under concurrency. */
    async createAgent(principal: Principal, input: CreateAgentInput): Promise<AgentRecord> {
      const { orgId, actor } = actingOf(principal);
      return retrying(async () => {
        const [org, role, { state, tree: t }] = await Promise.all([orgs.get(orgId), roleOf(orgId, input.roleId), snapshot(orgId)]);
        if (!org) throw notFound("Organization", orgId);
        assertPlacement(t, { level: role.level }, input.managerId);
        const now = clock.now().toISOString();
        const agent: AgentRecord = {
          id: newId(),
          name: input.name,
          roleId: role.id,
          level: role.level,
          managerId: input.managerId,
          status: input.status,
          routing: input.routing,
          createdAt: now,
          updatedAt: now,
        };
        const outcome = await agents.create({ ...agent, orgId }, org.quotas.agents, holding(role, 1), state, actor);
        if (outcome === "conflict") return undefined;
        if (outcome === "quota") {
          throw quotaExceeded(`The ${org.tier} tier allows ${org.quotas.agents} agents.`, "agent_quota_exceeded", { limit: "agents", quota: org.quotas.agents });
        }
        if (outcome === "manager_gone") throw notFound("Agent", input.managerId!);
        if (outcome === "root_exists") throw conflict("The organization already has a root agent.", "root_exists");
        if (outcome === "role_gone") throw notFound("Role", input.roleId);
        return { ...agent, version: 1 };
      });
    },

    /**
     * Changes an agent. Moving it (new managerId) or changing its role's level must keep the tree valid;
     * if it has direct reports and moves, `reassignReportsTo` says where they go ("self": with it).
     */
    async updateAgent(principal: Principal, id: string, input: UpdateAgentInput): Promise<AgentRecord> {
      const { orgId, actor } = actingOf(principal);
      return retrying(async () => {
        const { state, tree: t } = await snapshot(orgId);
        const current = get(t, id);
        const [role, previousRole] = await Promise.all([roleOf(orgId, input.roleId ?? current.roleId), roleOf(orgId, current.roleId).catch(() => undefined)]);
        const managerId = input.managerId === undefined ? current.managerId : input.managerId;
        const moved = managerId !== current.managerId;
        const reports = t.children.get(id) ?? [];
        const updated: AgentRecord = {
          ...current,
          ...(input.name !== undefined ? { name: input.name } : {}),
          ...(input.status !== undefined ? { status: input.status } : {}),
          ...(input.routing !== undefined ? { routing: input.routing } : {}),
          roleId: role.id,
          level: role.level,
          managerId,
          updatedAt: clock.now().toISOString(),
        };
        const writes: AgentWrite[] = [{ agent: updated, expectedVersion: current.version ?? 0 }];
        if (moved || role.level !== current.level) assertPlacement(t, updated, managerId);
        if (moved && reports.length) {
          if (!input.reassignReportsTo) {
            throw conflict(`${current.name} has ${reports.length} direct report(s): say where they go with reassignReportsTo ("self" keeps them).`, "reports_need_reassignment", { reports: reports.map((r) => r.id) });
          }
          if (input.reassignReportsTo !== "self") {
            const target = get(t, input.reassignReportsTo);
            for (const report of reports) {
              if (target.id === report.id) throw conflict("Reports cannot be reassigned to one of themselves.", "hierarchy_cycle");
              assertPlacement(t, report, target.id);
              writes.push({ agent: { ...report, managerId: target.id, updatedAt: updated.updatedAt }, expectedVersion: report.version ?? 0 });
            }
          }
        }
        // Reports that stay must still sit below the agent's (possibly new) level.
        const staying = moved && input.reassignReportsTo && input.reassignReportsTo !== "self" ? [] : reports;
        for (const report of staying) {
          if (report.level <= updated.level) throw conflict(`${report.name} (level ${report.level}) would no longer be below ${updated.name} (level ${updated.level}).`, "manager_level_invalid");
        }
        // A move or a level change relies on the whole tree as read: it is structural.
        const structural = moved || role.level !== current.level;
        const holders = role.id === current.roleId ? {} : { ...holding(role, 1), ...holding(previousRole, -1) };
        const saved = await agents.save(orgId, writes, holders, structural ? state : null, actor);
        return saved === "ok" ? { ...updated, version: (current.version ?? 0) + 1 } : undefined;
      });
    },

    /** Deletes an agent; one with direct reports needs `reassignReportsTo` (their new manager), else 409. */
    async deleteAgent(principal: Principal, id: string, reassignReportsTo?: string): Promise<void> {
      const { orgId, actor } = actingOf(principal);
      await retrying(async () => {
        const { state, tree: t } = await snapshot(orgId);
        const agent = get(t, id);
        const reports = t.children.get(id) ?? [];
        if (reports.length && !reassignReportsTo) {
          throw conflict(`${agent.name} has ${reports.length} direct report(s): give reassignReportsTo.`, "reports_need_reassignment", { reports: reports.map((r) => r.id) });
        }
        const moved: AgentWrite[] = [];
        if (reports.length) {
          const target = get(t, reassignReportsTo!);
          if (target.id === id || subtree(t, id).some((a) => a.id === target.id)) {
            throw conflict("Reports must go to an agent outside the deleted agent's subtree.", "hierarchy_cycle");
          }
          for (const report of reports) {
            assertPlacement(t, report, target.id);
            moved.push({ agent: { ...report, managerId: target.id, updatedAt: clock.now().toISOString() }, expectedVersion: report.version ?? 0 });
          }
        }
        const role = await roleOf(orgId, agent.roleId).catch(() => undefined);
        return (await agents.remove(orgId, agent, moved, holding(role, -1), state, actor)) === "ok" ? true : undefined;
      });
    },

    /** The organization's tree with each agent's queued messages. */
    async hierarchy(principal: Principal): Promise<{ roots: HierarchyNode[]; agents: number }> {
      const { orgId } = actingOf(principal);
      const [t, queued, customRoles] = await Promise.all([tree(orgId), messages.queuedCounts(orgId), roles.list(orgId)]);
      const roleNames = new Map([...BUILT_IN_ROLES, ...customRoles].map((r) => [r.id, r.name]));
      const node = (a: AgentRecord, depth: number): HierarchyNode => ({
        id: a.id,
        name: a.name,
        roleId: a.roleId,
        roleName: roleNames.get(a.roleId) ?? a.roleId,
        level: a.level,
        levelName: LEVEL_NAMES[a.level] ?? `Level ${a.level}`,
        status: a.status,
        queuedMessages: queued[a.id] ?? 0,
        reports: depth > 10 ? [] : (t.children.get(a.id) ?? []).map((c) => node(c, depth + 1)),
      });
      return { roots: t.roots.map((r) => node(r, 0)), agents: t.byId.size };
    },

    async sendAs(principal: Principal, senderId: string, input: SendMessageInput): Promise<MessageRecord[]> {
      return send(actingOf(principal), senderId, input);
    },

    async listMessages(principal: Principal, agentId: string, page: PageRequest) {
      const { orgId } = actingOf(principal);
      if (!(await agents.get(orgId, agentId))) throw notFound("Agent", agentId);
      return messages.list(orgId, agentId, page);
    },

    /**
     * A conversation's chat turns, newest first: with agent `agentId`, or without it the organization
     * channel (answered by the root agent; empty while there is none). Kept server-side for 30 days, so
     * a reload or another device shows them.
     */
    async conversation(principal: Principal, agentId: string | undefined, page: PageRequest): Promise<{ items: ConversationEntry[]; cursor?: string }> {
      const { orgId } = actingOf(principal);
      let target = agentId;
      if (target) {
        if (!(await agents.get(orgId, target))) throw notFound("Agent", target);
      } else {
        target = (await tree(orgId)).roots.find((r) => r.managerId === null)?.id;
        if (!target) return { items: [] };
      }
      const runs = await agents.listConversation(orgId, target, agentId ? "agent" : "channel", page);
      const items = runs.items.map((run): ConversationEntry => ({
        runId: run.id,
        agentId: run.agentId,
        message: run.input,
        reply: run.reply,
        ...(run.askedBy ? { askedBy: run.askedBy } : {}),
        ...(run.model ? { model: run.model } : {}),
        ...(run.tier ? { tier: run.tier } : {}),
        ...(run.offline !== undefined ? { offline: run.offline } : {}),
        steps: run.steps.length,
        at: run.startedAt,
        finishedAt: run.finishedAt,
      }));
      return runs.cursor ? { items, cursor: runs.cursor } : { items };
    },

    async setMessageStatus(principal: Principal, agentId: string, messageId: string, status: MessageRecord["status"]) {
      const { orgId, actor } = actingOf(principal);
      if (!(await messages.get(orgId, agentId, messageId))) throw notFound("Message", messageId);
      return messages.setStatus(orgId, agentId, messageId, status, actor);
    },
  };
}

export type AgentService = ReturnType<typeof createAgentService>;
