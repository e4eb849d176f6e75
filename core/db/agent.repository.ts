import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { conflict, notFound } from "../errors";
import type { AgentRecord, MessageRecord } from "../agents/agent.schema";
import type { AgentStore, Memory, MessageStore, RoleStore } from "../agents/ports";
import type { Role } from "../agents/roles";
import { decodeCursor, encodeCursor, isConditionFailed } from "./client";
import { pageSize, queryAll, toEntity } from "./item";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";


/** Which condition of a cancelled transaction failed, by item index. */
function cancelledAt(error: unknown): number[] {
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.flatMap((r, i) => (r.Code === "ConditionalCheckFailed" ? [i] : []));
}

export function createRoleStore({ client, table }: RepositoryOptions): RoleStore {
  return {
    async list(orgId) {
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.rolePrefix)).map((i) => toEntity<Role>(i)!);
    },
    async get(orgId, id) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.role(orgId, id), ConsistentRead: true }));
      return toEntity<Role>(Item);
    },
    async put(orgId, role, actor, mode) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...keys.role(orgId, role.id), entity: "role", orgId, ...role, updatedBy: actor },
            ConditionExpression: mode === "create" ? "attribute_not_exists(pk)" : "attribute_exists(pk)",
          }),
        );
      } catch (error) {
        if (isConditionFailed(error)) throw mode === "create" ? conflict(`Role '${role.id}' exists.`) : notFound("Role", role.id);
        throw error;
      }
    },
    async remove(orgId, id) {
      const agents = (await queryAll(client, table, keys.tenantPk(orgId), keys.agentPrefix)).filter((a) => a.roleId === id);
      if (agents.length) throw conflict(`Role '${id}' is used by ${agents.length} agent(s): give them another role first.`, "role_in_use", { agents: agents.map((a) => a.id) });
      await client.send(new DeleteCommand({ TableName: table, Key: keys.role(orgId, id) }));
    },
  };
}

export function createAgentStore({ client, table }: RepositoryOptions): AgentStore {
  const item = (orgId: string, agent: AgentRecord, actor: string) => ({ ...keys.agent(orgId, agent.id), entity: "agent", orgId, ...agent, updatedBy: actor });

  return {
    async list(orgId) {
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.agentPrefix)).map((i) => toEntity<AgentRecord>(i)!);
    },

    async get(orgId, id) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.agent(orgId, id), ConsistentRead: true }));
      return toEntity<AgentRecord>(Item);
    },

    async create(agent, limit, actor) {
      const { orgId } = agent;
      const { orgId: _org, ...record } = agent;
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]> = [
        {
          // The quota: the counter only moves while below the limit, so racing creates cannot pass it.
          Update: {
            TableName: table,
            Key: keys.counter(orgId, "agents"),
            UpdateExpression: "ADD #count :one SET entity = :entity, orgId = :org, id = :id",
            ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
            ExpressionAttributeNames: { "#count": "count" },
            ExpressionAttributeValues: { ":one": 1, ":limit": limit, ":entity": "counter", ":org": orgId, ":id": "agents" },
          },
        },
        { Put: { TableName: table, Item: item(orgId, record, actor), ConditionExpression: "attribute_not_exists(pk)" } },
        agent.managerId
          ? { ConditionCheck: { TableName: table, Key: keys.agent(orgId, agent.managerId), ConditionExpression: "attribute_exists(pk)" } }
          : {
              Put: {
                TableName: table,
                Item: { ...keys.agentRoot(orgId), entity: "agentRoot", orgId, id: "root", rootId: agent.id, updatedBy: actor },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
      ];
      try {
        await client.send(new TransactWriteCommand({ TransactItems: items }));
        return "ok";
      } catch (error) {
        const failed = cancelledAt(error);
        if (failed.includes(0)) return "quota";
        if (failed.includes(2)) return agent.managerId ? "manager_gone" : "root_exists";
        throw error;
      }
    },

    async save(orgId, agents, actor) {
      if (!agents.length) return;
      try {
        for (let i = 0; i < agents.length; i += 100) {
          await client.send(
            new TransactWriteCommand({
              TransactItems: agents.slice(i, i + 100).map((agent) => ({
                Put: { TableName: table, Item: item(orgId, agent, actor), ConditionExpression: "attribute_exists(pk)" },
              })),
            }),
          );
        }
      } catch (error) {
        if (cancelledAt(error).length) throw conflict("An agent changed or disappeared meanwhile; retry.", "agent_changed");
        throw error;
      }
    },

    async remove(orgId, agent, reports, actor) {
      const moved = reports.map((report) => ({
        Put: { TableName: table, Item: item(orgId, report, actor), ConditionExpression: "attribute_exists(pk)" },
      }));
      try {
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
              { Delete: { TableName: table, Key: keys.agent(orgId, agent.id), ConditionExpression: "attribute_exists(pk)" } },
              {
                Update: {
                  TableName: table,
                  Key: keys.counter(orgId, "agents"),
                  UpdateExpression: "ADD #count :minus",
                  ExpressionAttributeNames: { "#count": "count" },
                  ExpressionAttributeValues: { ":minus": -1 },
                },
              },
              { Delete: { TableName: table, Key: keys.agentMemory(orgId, agent.id) } },
              ...(agent.managerId ? [] : [{ Delete: { TableName: table, Key: keys.agentRoot(orgId) } }]),
              ...moved,
            ],
          }),
        );
      } catch (error) {
        if (cancelledAt(error).length) throw conflict("The agent or one of its reports changed meanwhile; retry.", "agent_changed");
        throw error;
      }
    },

    async getMemory(orgId, agentId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.agentMemory(orgId, agentId), ConsistentRead: true }));
      return { summary: (Item?.summary as string | undefined) ?? "", turns: (Item?.turns as Memory["turns"] | undefined) ?? [] };
    },

    async recordRun(orgId, run) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...keys.agentRun(orgId, run.agentId, run.id),
            entity: "agentRun",
            orgId,
            ...run,
            updatedAt: run.finishedAt,
            updatedBy: `agent:${run.agentId}`,
            ttl: Math.floor(Date.parse(run.finishedAt) / 1000) + 30 * 24 * 60 * 60,
          },
        }),
      );
    },

    async putMemory(orgId, agentId, memory) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.agentMemory(orgId, agentId), entity: "agentMemory", orgId, id: agentId, ...memory, updatedAt: new Date().toISOString(), updatedBy: `agent:${agentId}` },
        }),
      );
    },
  };
}

export function createMessageStore({ client, table }: RepositoryOptions): MessageStore {
  return {
    async deliver(orgId, messages) {
      // Each message and its inbox counter in one transaction (2 items each; 100 items per transaction).
      for (let i = 0; i < messages.length; i += 50) {
        await client.send(
          new TransactWriteCommand({
            TransactItems: messages.slice(i, i + 50).flatMap((m) => [
              { Put: { TableName: table, Item: { ...keys.message(orgId, m.to, m.id), entity: "message", orgId, ...m, updatedBy: m.sentBy } } },
              {
                Update: {
                  TableName: table,
                  Key: keys.inbox(orgId, m.to),
                  UpdateExpression: "ADD queued :one SET entity = :entity, orgId = :org, id = :id",
                  ExpressionAttributeValues: { ":one": 1, ":entity": "inbox", ":org": orgId, ":id": m.to },
                },
              },
            ]),
          }),
        );
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
          ExclusiveStartKey: decodeCursor(cursor, { pk: keys.tenantPk(orgId) }),
        }),
      );
      const items = (result.Items ?? []).map((i) => toEntity<MessageRecord>(i)!);
      const next = encodeCursor(result.LastEvaluatedKey);
      return next ? { items, cursor: next } : { items };
    },

    async get(orgId, agentId, messageId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.message(orgId, agentId, messageId), ConsistentRead: true }));
      return toEntity<MessageRecord>(Item);
    },

    async setStatus(orgId, agentId, messageId, status, actor) {
      const now = new Date().toISOString();
      try {
        // Leaving "queued" and the inbox counter move together, exactly once.
        await client.send(
          new TransactWriteCommand({
            TransactItems: [
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
              { Update: { TableName: table, Key: keys.inbox(orgId, agentId), UpdateExpression: "ADD queued :minus", ExpressionAttributeValues: { ":minus": -1 } } },
            ],
          }),
        );
      } catch (error) {
        if (!cancelledAt(error).length) throw error;
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
