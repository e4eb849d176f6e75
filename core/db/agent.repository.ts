import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { conflict, notFound } from "../errors";
import type { AgentRecord, MessageRecord } from "../agents/agent.schema";
import type { AgentRun, AgentStore, AgentWrite, HierarchyState, Memory, MessageStore, RoleHolders, RoleStore } from "../agents/ports";
import type { Role } from "../agents/roles";
import { conditionFailedItem, isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize, queryAll, toEntity } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import { MAX_TRANSACT_ITEMS, transactWrite, type TransactItem } from "./transact";
import { createUsageCounters } from "./usage-counters";
import { isWorkable, taskOf } from "../agents/work-rules";
import type { RepositoryOptions } from "./organization.repository";


/** `version = expected` (items written before versions existed have none: version 0). */
function versionIs(expected: number): { expression: string; values: Record<string, unknown> } {
  return expected === 0
    ? { expression: "attribute_not_exists(#version)", values: {} }
    : { expression: "#version = :expected", values: { ":expected": expected } };
}

/**
 * The parts of a write conditional on an item's version (and that it exists, unless `exists` is
 * false): its condition, names and values, ready to spread into a Put, Delete or ConditionCheck.
 */
function atVersion(expected: number, { exists = true } = {}) {
  const { expression, values } = versionIs(expected);
  return {
    ConditionExpression: exists ? `attribute_exists(pk) AND ${expression}` : expression,
    ExpressionAttributeNames: { "#version": "version" },
    ...(Object.keys(values).length ? { ExpressionAttributeValues: values } : {}),
  };
}

export function createRoleStore({ client, table }: RepositoryOptions): RoleStore {
  const item = (orgId: string, role: Role, actor: string) => ({ ...keys.role(orgId, role.id), ...entities.role.stamp, orgId, ...role, updatedBy: actor });

  return {
    async list(orgId) {
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.rolePrefix)).map((i) => roleOf(i)!);
    },
    async get(orgId, id) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.role(orgId, id), ConsistentRead: true }));
      return roleOf(Item);
    },
    async create(orgId, role, actor) {
      try {
        await client.send(
          new PutCommand({ TableName: table, Item: { ...item(orgId, { ...role, version: 1 }, actor), holders: 0 }, ConditionExpression: "attribute_not_exists(pk)" }),
        );
      } catch (error) {
        if (isConditionFailed(error)) throw conflict(`Role '${role.id}' exists.`);
        throw error;
      }
    },
    async replace(orgId, role, expectedVersion, actor) {
      const { version: _v, ...fields } = role;
      const names: Record<string, string> = { "#version": "version" };
      const values: Record<string, unknown> = { ":one": 1, ":zero": 0, ":actor": actor, ...versionIs(expectedVersion).values };
      const sets = ["#version = if_not_exists(#version, :zero) + :one", "updatedBy = :actor"];
      Object.entries(fields).forEach(([name, value], i) => {
        if (value === undefined || name === "id") return;
        names[`#f${i}`] = name;
        values[`:f${i}`] = value;
        sets.push(`#f${i} = :f${i}`);
      });
      try {
        // The attributes of the role only: its holder count belongs to the agent writes.
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.role(orgId, role.id),
            UpdateExpression: `SET ${sets.join(", ")}`,
            ConditionExpression: `attribute_exists(pk) AND ${versionIs(expectedVersion).expression}`,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return "ok";
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (!conditionFailedItem(error)) throw notFound("Role", role.id);
        return "conflict";
      }
    },
    async remove(orgId, id) {
      // Agents written before holder counts existed are found by this query; later ones by the count.
      const agents = (await queryAll(client, table, keys.tenantPk(orgId), keys.agentPrefix)).filter((a) => a.roleId === id);
      if (agents.length) throw conflict(`Role '${id}' is used by ${agents.length} agent(s): give them another role first.`, "role_in_use", { agents: agents.map((a) => a.id) });
      try {
        await client.send(
          new DeleteCommand({
            TableName: table,
            Key: keys.role(orgId, id),
            ConditionExpression: "attribute_not_exists(holders) OR holders <= :zero",
            ExpressionAttributeValues: { ":zero": 0 },
          }),
        );
      } catch (error) {
        if (isConditionFailed(error)) throw conflict(`Role '${id}' was given to an agent meanwhile: give it another role first.`, "role_in_use");
        throw error;
      }
    },
  };
}

/** A stored role without its bookkeeping (`holders` is the table's, not the API's). */
function roleOf(item: Record<string, unknown> | undefined): Role | undefined {
  return entities.role.fromItem<Role>(item);
}

/** The parts of the agent store's transactions, named so a failed condition says which one it was. */
type Part = "agentQuota" | "agent" | "manager" | "root" | "hierarchy" | "agentsCounter" | "memory" | "roleHolders";

/** Queries one page of a conversation may take at most (task runs between chat turns are skipped). */
const CONVERSATION_QUERY_ROUNDS = 5;

export function createAgentStore({ client, table, cursors = processCursors }: RepositoryOptions): AgentStore {
  const item = (orgId: string, agent: AgentRecord, actor: string) => ({ ...keys.agent(orgId, agent.id), ...entities.agent.stamp, orgId, ...agent, updatedBy: actor });

  const counters = createUsageCounters(table);

  /** The holder-count updates of a write: each custom role must still exist. */
  const holderUpdates = (orgId: string, holders: RoleHolders): [Part, TransactItem][] =>
    Object.entries(holders)
      .filter(([, delta]) => delta !== 0)
      .map(([roleId, delta]) => [
        "roleHolders",
        {
          Update: {
            TableName: table,
            Key: keys.role(orgId, roleId),
            UpdateExpression: "ADD holders :delta",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":delta": delta },
          },
        },
      ]);

  /** An agent written at the next version, conditional on the version it was read at. */
  const versionedPut = (orgId: string, { agent, expectedVersion }: AgentWrite, actor: string): [Part, TransactItem] => [
    "agent",
    { Put: { TableName: table, Item: item(orgId, { ...agent, version: expectedVersion + 1 }, actor), ...atVersion(expectedVersion) } },
  ];

  /** A create's check that no structural change happened since its read. */
  const hierarchyCheck = (orgId: string, expected: number): [Part, TransactItem] => [
    "hierarchy",
    { ConditionCheck: { TableName: table, Key: keys.hierarchy(orgId), ...atVersion(expected, { exists: false }) } },
  ];

  /** A structural change's claim on the hierarchy: still at the version read, then the next one. */
  const hierarchyBump = (orgId: string, expected: number): [Part, TransactItem] => {
    const condition = versionIs(expected);
    return [
      "hierarchy",
      {
        Update: {
          TableName: table,
          Key: keys.hierarchy(orgId),
          UpdateExpression: "SET #version = if_not_exists(#version, :zero) + :one, entity = :entity, orgId = :org, id = :id",
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: { "#version": "version" },
          ExpressionAttributeValues: { ":zero": 0, ":one": 1, ":entity": entities.hierarchyVersion.name, ":org": orgId, ":id": "hierarchy", ...condition.values },
        },
      },
    ];
  };

  /** A structural write: any failed condition means the state it was decided on moved (re-read and retry). */
  async function transact(parts: [Part, TransactItem][]): Promise<"ok" | "conflict"> {
    if (parts.length > MAX_TRANSACT_ITEMS) {
      throw conflict(`This change touches ${parts.length} items; one atomic change holds at most ${MAX_TRANSACT_ITEMS}: move fewer reports at once.`, "change_too_large");
    }
    return (await transactWrite(client, parts)).ok ? "ok" : "conflict";
  }

  return {
    async list(orgId) {
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.agentPrefix)).map((i) => toEntity<AgentRecord>(i)!);
    },

    async listConversation(orgId, agentId, conversation, { limit, cursor }) {
      const scope = `runs:${orgId}:${agentId}:${conversation}`;
      const wanted = pageSize(limit);
      const items: AgentRun[] = [];
      let start = cursors.decode(cursor, scope, { pk: keys.tenantPk(orgId) });
      // The filter skips task runs, so one query may fill little of a page: a few more, bounded.
      for (let round = 0; round < CONVERSATION_QUERY_ROUNDS && items.length < wanted; round++) {
        const result = await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            FilterExpression: "conversation = :conversation",
            ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.agentRunPrefix(agentId), ":conversation": conversation },
            ScanIndexForward: false,
            // Evaluated items, not matches: exactly what is still wanted, so the next key is exact.
            Limit: wanted - items.length,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(result.Items ?? []).map((i) => toEntity<AgentRun>(i)!));
        start = result.LastEvaluatedKey;
        if (!start) break;
      }
      const next = cursors.encode(start, scope);
      return next ? { items, cursor: next } : { items };
    },

    async get(orgId, id) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.agent(orgId, id), ConsistentRead: true }));
      return toEntity<AgentRecord>(Item);
    },

    async hierarchyState(orgId) {
      // Two strongly consistent reads, before the agents are listed.
      const [version, count] = await Promise.all([
        client.send(new GetCommand({ TableName: table, Key: keys.hierarchy(orgId), ConsistentRead: true, ProjectionExpression: "#v", ExpressionAttributeNames: { "#v": "version" } })),
        client.send(new GetCommand({ TableName: table, Key: keys.counter(orgId, "agents"), ConsistentRead: true, ProjectionExpression: "#c", ExpressionAttributeNames: { "#c": "count" } })),
      ]);
      return { version: (version.Item?.version as number | undefined) ?? 0, agents: (count.Item?.count as number | undefined) ?? 0 };
    },

    async create(agent, limit, holders, hierarchy, actor) {
      const { orgId } = agent;
      const { orgId: _org, ...record } = agent;
      const result = await transactWrite(client, [
        ["agentQuota", counters.agentQuota(orgId, limit)],
        ["agent", { Put: { TableName: table, Item: item(orgId, { ...record, version: 1 }, actor), ConditionExpression: "attribute_not_exists(pk)" } }],
        agent.managerId
          ? ["manager", { ConditionCheck: { TableName: table, Key: keys.agent(orgId, agent.managerId), ConditionExpression: "attribute_exists(pk)" } }]
          : [
              "root",
              {
                Put: {
                  TableName: table,
                  Item: { ...keys.agentRoot(orgId), ...entities.agentRoot.stamp, orgId, id: "root", rootId: agent.id, updatedBy: actor },
                  ConditionExpression: "attribute_not_exists(pk)",
                },
              },
            ],
        hierarchyCheck(orgId, hierarchy.version),
        ...holderUpdates(orgId, holders),
      ]);
      if (result.ok) return "ok";
      // The most telling reason first: the quota, then a gone manager or a taken root, then a gone role.
      const failed = new Set(result.conditions);
      if (failed.has("agentQuota")) return "quota";
      if (failed.has("manager")) return "manager_gone";
      if (failed.has("root")) return "root_exists";
      if (failed.has("roleHolders")) return "role_gone";
      return "conflict";
    },

    async save(orgId, writes, holders, hierarchy, actor) {
      if (!writes.length) return "ok";
      const structural: [Part, TransactItem][] =
        hierarchy === null ? [] : [hierarchyBump(orgId, hierarchy.version), ["agentsCounter", counters.agentsUnchanged(orgId, hierarchy.agents)]];
      return transact([...writes.map((w) => versionedPut(orgId, w, actor)), ...structural, ...holderUpdates(orgId, holders)]);
    },

    async remove(orgId, agent, reports, holders, hierarchy, actor) {
      return transact([
        ["agent", { Delete: { TableName: table, Key: keys.agent(orgId, agent.id), ...atVersion(agent.version ?? 0) } }],
        // No agent created since the decision (it could be under the one deleted).
        ["agentsCounter", counters.agentRemoved(orgId, hierarchy.agents)],
        ["memory", { Delete: { TableName: table, Key: keys.agentMemory(orgId, agent.id) } }],
        ...(agent.managerId ? [] : [["root", { Delete: { TableName: table, Key: keys.agentRoot(orgId) } }] as [Part, TransactItem]]),
        ...reports.map((w) => versionedPut(orgId, w, actor)),
        hierarchyBump(orgId, hierarchy.version),
        ...holderUpdates(orgId, holders),
      ]);
    },

    async getMemory(orgId, agentId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.agentMemory(orgId, agentId), ConsistentRead: true }));
      return {
        summary: (Item?.summary as string | undefined) ?? "",
        turns: (Item?.turns as Memory["turns"] | undefined) ?? [],
        version: (Item?.version as number | undefined) ?? 0,
      };
    },

    async recordRun(orgId, run) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...keys.agentRun(orgId, run.agentId, run.id),
            ...entities.agentRun.stamp,
            orgId,
            ...run,
            updatedAt: run.finishedAt,
            updatedBy: `agent:${run.agentId}`,
            ttl: Math.floor(Date.parse(run.finishedAt) / 1000) + 30 * 24 * 60 * 60,
          },
        }),
      );
    },

    async putMemory(orgId, agentId, memory, expectedVersion) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...keys.agentMemory(orgId, agentId), ...entities.agentMemory.stamp, orgId, id: agentId, summary: memory.summary, turns: memory.turns, version: expectedVersion + 1, updatedAt: new Date().toISOString(), updatedBy: `agent:${agentId}` },
            // Two turns with the same agent at once: the second re-reads and adds its turn to the first's.
            ...atVersion(expectedVersion, { exists: false }),
          }),
        );
        return "ok";
      } catch (error) {
        if (isConditionFailed(error)) return "conflict";
        throw error;
      }
    },
  };
}

/**
 * The writes that deliver one message: the message, its inbox's queued count, and for a message that
 * asks for work its task (core/agents/work-rules.ts), whose insert the work dispatcher turns into a
 * queue message (the table's stream is the outbox: the message and its task cannot diverge).
 */
export function deliveryParts(table: string, orgId: string, m: MessageRecord): [string, TransactItem][] {
  const parts: [string, TransactItem][] = [
    ["message", { Put: { TableName: table, Item: { ...keys.message(orgId, m.to, m.id), ...entities.message.stamp, orgId, ...m, updatedBy: m.sentBy } } }],
    [
      "inbox",
      {
        Update: {
          TableName: table,
          Key: keys.inbox(orgId, m.to),
          UpdateExpression: "ADD queued :one SET entity = :entity, orgId = :org, id = :id",
          ExpressionAttributeValues: { ":one": 1, ":entity": entities.inbox.name, ":org": orgId, ":id": m.to },
        },
      },
    ],
  ];
  if (isWorkable(m)) {
    parts.push(["task", { Put: { TableName: table, Item: { ...keys.task(orgId, m.id), ...entities.task.stamp, orgId, ...taskOf(m), version: 1, updatedBy: m.sentBy }, ConditionExpression: "attribute_not_exists(pk)" } }]);
  }
  return parts;
}

export function createMessageStore({ client, table, cursors = processCursors }: RepositoryOptions): MessageStore {
  return {
    async deliver(orgId, messages) {
      // Each message, its inbox counter and its task in one transaction (at most 3 items each; 100 per transaction).
      for (let i = 0; i < messages.length; i += 33) {
        await transactWrite(client, messages.slice(i, i + 33).flatMap((m) => deliveryParts(table, orgId, m)));
      }
    },

    async list(orgId, agentId, { limit, cursor }) {
      const result = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.inboxPrefix(agentId) },
          ScanIndexForward: false,
          Limit: pageSize(limit),
          ExclusiveStartKey: cursors.decode(cursor, `inbox:${orgId}:${agentId}`, { pk: keys.tenantPk(orgId) }),
        }),
      );
      const items = (result.Items ?? []).map((i) => toEntity<MessageRecord>(i)!);
      const next = cursors.encode(result.LastEvaluatedKey, `inbox:${orgId}:${agentId}`);
      return next ? { items, cursor: next } : { items };
    },

    async get(orgId, agentId, messageId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.message(orgId, agentId, messageId), ConsistentRead: true }));
      return toEntity<MessageRecord>(Item);
    },

    async setStatus(orgId, agentId, messageId, status, actor) {
      const now = new Date().toISOString();
      // Leaving "queued" and the inbox counter move together, exactly once.
      const left = await transactWrite(client, [
        [
          "queued",
          {
            Update: {
              TableName: table,
              Key: keys.message(orgId, agentId, messageId),
              UpdateExpression: "SET #status = :status, updatedAt = :now, updatedBy = :actor",
              ConditionExpression: "#status = :queued",
              ExpressionAttributeNames: { "#status": "status" },
              ExpressionAttributeValues: { ":status": status, ":now": now, ":actor": actor, ":queued": "queued" },
            },
          },
        ],
        ["inbox", { Update: { TableName: table, Key: keys.inbox(orgId, agentId), UpdateExpression: "ADD queued :minus", ExpressionAttributeValues: { ":minus": -1 } } }],
      ]);
      if (!left.ok) {
        // Not queued any more (or missing): a plain conditional update without the counter.
        try {
          await client.send(
            new UpdateCommand({
              TableName: table,
              Key: keys.message(orgId, agentId, messageId),
              UpdateExpression: "SET #status = :status, updatedAt = :now, updatedBy = :actor",
              ConditionExpression: "attribute_exists(pk)",
              ExpressionAttributeNames: { "#status": "status" },
              ExpressionAttributeValues: { ":status": status, ":now": now, ":actor": actor },
            }),
          );
        } catch (inner) {
          if (isConditionFailed(inner)) throw notFound("Message", messageId);
          throw inner;
        }
      }
      return (await this.get(orgId, agentId, messageId))!;
    },

    async queuedCounts(orgId) {
      const counts: Record<string, number> = {};
      for (const item of await queryAll(client, table, keys.tenantPk(orgId), keys.inboxesPrefix)) {
        counts[String(item.id)] = Math.max(0, Number(item.queued ?? 0));
      }
      return counts;
    },
  };
}

/** The agent domain's three stores over one client and table. */
export function createAgentRepositories(options: RepositoryOptions) {
  return { roles: createRoleStore(options), agents: createAgentStore(options), messages: createMessageStore(options) };
}
