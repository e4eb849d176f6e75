import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { MessageRecord } from "../agents/agent.schema";
import type { Claim, TaskOutcome, WorkStore } from "../agents/ports";
import { DEFAULT_WORK_SETTINGS, type TaskRecord, type WorkSettings } from "../agents/work.schema";
import { deliveryParts } from "./agent.repository";
import { processCursors } from "./cursor";
import { entities } from "./entities";
import { pageSize } from "./item";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";
import { transactWrite, type TransactItem } from "./transact";

type Part = [string, TransactItem];

/** Day counters are kept a few days after their day (for the usage view), then expire. */
const DAY_COUNTER_TTL_SECONDS = 3 * 24 * 60 * 60;

/** A stored task without the table's attributes, its cost in dollars for the API. */
function taskOfItem(item: Record<string, unknown> | undefined): TaskRecord | undefined {
  const task = entities.task.fromItem<TaskRecord>(item);
  if (!task) return undefined;
  return { ...task, costUsd: (task.costMicroUsd ?? 0) / 1_000_000 };
}

/** An UpdateExpression from SET values and REMOVE names (names and values placeholders generated). */
function update(set: Record<string, unknown>, remove: string[] = [], extra: { expression?: string; values?: Record<string, unknown> } = {}) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ...extra.values };
  const sets = Object.entries(set)
    .filter(([, v]) => v !== undefined)
    .map(([name, value], i) => {
      names[`#s${i}`] = name;
      values[`:s${i}`] = value;
      return `#s${i} = :s${i}`;
    });
  if (extra.expression) sets.push(extra.expression);
  const removes = remove.map((name, i) => {
    names[`#r${i}`] = name;
    return `#r${i}`;
  });
  return {
    UpdateExpression: [sets.length ? `SET ${sets.join(", ")}` : "", removes.length ? `REMOVE ${removes.join(", ")}` : ""].filter(Boolean).join(" "),
    names,
    values,
  };
}

export function createWorkStore({ client, table, cursors = processCursors }: RepositoryOptions): WorkStore {
  /** The task moved from the state read (its version) to `set`, bumping the version. */
  const taskUpdate = (orgId: string, task: TaskRecord, set: Record<string, unknown>, remove: string[], condition: string, values: Record<string, unknown> = {}): Part => {
    const u = update(set, remove, { expression: "#version = #version + :one", values: { ":one": 1, ...values } });
    return [
      "task",
      {
        Update: {
          TableName: table,
          Key: keys.task(orgId, task.id),
          UpdateExpression: u.UpdateExpression,
          ConditionExpression: condition,
          ExpressionAttributeNames: { ...u.names, "#version": "version", "#status": "status" },
          ExpressionAttributeValues: u.values,
        },
      },
    ];
  };

  const messageUpdate = (orgId: string, task: TaskRecord, status: string, now: string, { queued, reason }: { queued?: boolean; reason?: string } = {}): Part => {
    const u = update({ status, updatedAt: now, updatedBy: `agent:${task.agentId}`, reason });
    return [
      "message",
      {
        Update: {
          TableName: table,
          Key: keys.message(orgId, task.agentId, task.id),
          UpdateExpression: u.UpdateExpression,
          // Leaving "queued" moves the inbox's count: only from queued, exactly once.
          ConditionExpression: queued ? "#st = :queued" : "attribute_exists(pk)",
          ExpressionAttributeNames: { ...u.names, ...(queued ? { "#st": "status" } : {}) },
          ExpressionAttributeValues: { ...u.values, ...(queued ? { ":queued": "queued" } : {}) },
        },
      },
    ];
  };

  const inbox = (orgId: string, agentId: string, delta: number): Part => [
    "inbox",
    { Update: { TableName: table, Key: keys.inbox(orgId, agentId), UpdateExpression: "ADD queued :d", ExpressionAttributeValues: { ":d": delta } } },
  ];

  const running = (orgId: string, delta: number, max?: number): Part => [
    "running",
    {
      Update: {
        TableName: table,
        Key: keys.workRunning(orgId),
        UpdateExpression: "ADD running :d SET entity = :entity, orgId = :org, id = :id",
        ...(max !== undefined ? { ConditionExpression: "attribute_not_exists(running) OR running < :max" } : {}),
        ExpressionAttributeValues: { ":d": delta, ":entity": entities.workCounter.name, ":org": orgId, ":id": "running", ...(max !== undefined ? { ":max": max } : {}) },
      },
    },
  ];

  const dayCounter = (orgId: string, day: string, add: { tasks?: number; costMicroUsd?: number }, limits?: { tasks?: number; costMicroUsd: number }): Part => {
    const conditions: string[] = [];
    const values: Record<string, unknown> = {
      ":t": add.tasks ?? 0,
      ":c": add.costMicroUsd ?? 0,
      ":entity": entities.workCounter.name,
      ":org": orgId,
      ":id": `day:${day}`,
      ":ttl": Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + DAY_COUNTER_TTL_SECONDS,
    };
    if (limits?.tasks !== undefined) {
      conditions.push("(attribute_not_exists(tasks) OR tasks < :maxTasks)");
      values[":maxTasks"] = limits.tasks;
    }
    if (limits) {
      conditions.push("(attribute_not_exists(costMicroUsd) OR costMicroUsd < :maxCost)");
      values[":maxCost"] = limits.costMicroUsd;
    }
    return [
      "day",
      {
        Update: {
          TableName: table,
          Key: keys.workDay(orgId, day),
          UpdateExpression: "ADD tasks :t, costMicroUsd :c SET entity = :entity, orgId = :org, id = :id, #ttl = :ttl",
          ExpressionAttributeNames: { "#ttl": "ttl" },
          ...(conditions.length ? { ConditionExpression: conditions.join(" AND ") } : {}),
          ExpressionAttributeValues: values,
        },
      },
    ];
  };

  const outcomeSet = (outcome: TaskOutcome) => ({
    status: outcome.status,
    reason: outcome.reason,
    updatedAt: outcome.now,
    finishedAt: outcome.now,
    steps: outcome.steps,
    costMicroUsd: outcome.costMicroUsd,
    inputTokens: outcome.inputTokens,
    outputTokens: outcome.outputTokens,
    runId: outcome.runId,
    result: outcome.result,
  });

  const reportParts = (orgId: string, reports: MessageRecord[]): Part[] => reports.flatMap((m) => deliveryParts(table, orgId, m));

  const store: WorkStore = {
    async get(orgId, taskId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.task(orgId, taskId), ConsistentRead: true }));
      if (!Item) return undefined;
      // The version and the claim token matter to the transitions: kept here (the API view drops them).
      return { ...taskOfItem(Item)!, version: Item.version as number, ...(Item.claim ? { claim: Item.claim as string } : {}) };
    },

    async claim(orgId, task, c: Claim) {
      const fromQueued = task.status === "queued";
      const parts: Part[] = [
        taskUpdate(
          orgId,
          task,
          { status: "working", claim: c.token, leaseUntil: c.leaseUntil, updatedAt: c.now, startedAt: task.startedAt ?? c.now, attempts: task.attempts + 1 },
          [],
          fromQueued ? "#version = :v AND #status = :queued" : "#version = :v AND #status = :working AND leaseUntil < :now",
          { ":v": task.version ?? 1, ...(fromQueued ? { ":queued": "queued" } : { ":working": "working", ":now": c.now }) },
        ),
        messageUpdate(orgId, task, "working", c.now, { queued: c.messageQueued }),
        ...(c.messageQueued ? [inbox(orgId, task.agentId, -1)] : []),
      ];
      // A take-over of an expired lease inherits the crashed worker's slot and the day's count.
      if (fromQueued) {
        parts.push(running(orgId, 1, c.settings.maxConcurrentTasks));
        parts.push(dayCounter(orgId, c.day, { tasks: task.attempts === 0 ? 1 : 0 }, { ...(task.attempts === 0 ? { tasks: c.settings.dailyTasks } : {}), costMicroUsd: Math.round(c.settings.dailyCostUsd * 1_000_000) }));
      }
      const result = await transactWrite(client, parts);
      if (result.ok) return "ok";
      const failed = new Set(result.conditions);
      if (failed.has("task") || failed.has("message")) return "conflict";
      if (failed.has("running")) return "busy";
      const usage = await store.usage(orgId, c.day);
      return usage.costUsd >= c.settings.dailyCostUsd ? "daily_cost" : "daily_tasks";
    },

    async finish(orgId, task, token, outcome) {
      const result = await transactWrite(client, [
        taskUpdate(orgId, task, outcomeSet(outcome), ["claim", "leaseUntil"], "#claim = :token AND #status = :working", { ":token": token, ":working": "working" }),
        messageUpdate(orgId, task, outcome.status, outcome.now, outcome.reason ? { reason: outcome.reason } : {}),
        running(orgId, -1),
        dayCounter(orgId, outcome.day, { costMicroUsd: outcome.costMicroUsd ?? 0 }),
        ...reportParts(orgId, outcome.reports),
      ].map(withClaimName));
      return result.ok ? "ok" : "conflict";
    },

    async release(orgId, task, token, reason, now) {
      const result = await transactWrite(client, [
        taskUpdate(orgId, task, { status: "queued", reason, updatedAt: now }, ["claim", "leaseUntil"], "#claim = :token AND #status = :working", { ":token": token, ":working": "working" }),
        messageUpdate(orgId, task, "queued", now),
        inbox(orgId, task.agentId, 1),
        running(orgId, -1),
      ].map(withClaimName));
      return result.ok ? "ok" : "conflict";
    },

    async end(orgId, task, outcome, messageQueued) {
      const result = await transactWrite(client, [
        taskUpdate(orgId, task, outcomeSet(outcome), ["claim", "leaseUntil"], "#version = :v AND #status = :read", { ":v": task.version ?? 1, ":read": task.status }),
        messageUpdate(orgId, task, outcome.status, outcome.now, { queued: messageQueued, ...(outcome.reason ? { reason: outcome.reason } : {}) }),
        ...(messageQueued ? [inbox(orgId, task.agentId, -1)] : []),
        // A slot a crashed worker held is given back with the end.
        ...(task.status === "working" ? [running(orgId, -1)] : []),
        ...reportParts(orgId, outcome.reports),
      ]);
      return result.ok ? "ok" : "conflict";
    },

    async list(orgId, { status, limit, cursor }) {
      const scope = `tasks:${orgId}:${status ?? ""}`;
      const result = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ...(status ? { FilterExpression: "#status = :status", ExpressionAttributeNames: { "#status": "status" } } : {}),
          ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.taskPrefix, ...(status ? { ":status": status } : {}) },
          ScanIndexForward: false,
          Limit: pageSize(limit),
          ExclusiveStartKey: cursors.decode(cursor, scope, { pk: keys.tenantPk(orgId) }),
        }),
      );
      const items = (result.Items ?? []).map((i) => taskOfItem(i)!);
      const next = cursors.encode(result.LastEvaluatedKey, scope);
      return next ? { items, cursor: next } : { items };
    },

    async settings(orgId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.workSettings(orgId), ConsistentRead: true }));
      const stored = entities.workSettings.fromItem<Partial<WorkSettings> & { orgId?: string; id?: string; updatedAt?: string }>(Item) ?? {};
      const { orgId: _o, id: _i, updatedAt: _u, ...settings } = stored;
      return { ...DEFAULT_WORK_SETTINGS, ...settings };
    },

    async putSettings(orgId, settings, actor) {
      await client.send(
        new PutCommand({ TableName: table, Item: { ...keys.workSettings(orgId), ...entities.workSettings.stamp, orgId, id: "work", ...settings, updatedAt: new Date().toISOString(), updatedBy: actor } }),
      );
    },

    async usage(orgId, day) {
      const [run, today] = await Promise.all([
        client.send(new GetCommand({ TableName: table, Key: keys.workRunning(orgId), ConsistentRead: true })),
        client.send(new GetCommand({ TableName: table, Key: keys.workDay(orgId, day), ConsistentRead: true })),
      ]);
      return {
        day,
        running: Math.max(0, Number(run.Item?.running ?? 0)),
        tasks: Number(today.Item?.tasks ?? 0),
        costUsd: Number(today.Item?.costMicroUsd ?? 0) / 1_000_000,
      };
    },
  };
  return store;
}

/** Claim-conditioned task updates name the claim attribute (`#claim`). */
function withClaimName(part: Part): Part {
  const [name, item] = part;
  if (name !== "task" || !item.Update) return part;
  return [name, { Update: { ...item.Update, ExpressionAttributeNames: { ...item.Update.ExpressionAttributeNames, "#claim": "claim" } } }];
}
