import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { conflict } from "../errors";
import type { RoutingSettings } from "../chat/chat.schema";
import type { GlobalStats, MeteringStore, RoutingSettingsStore, UsageRecord } from "../metering/ports";
import { isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize, toEntity } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import { transactWrite } from "./transact";
import { createUsageCounters, MODEL_COUNTER_PREFIX } from "./usage-counters";
import type { RepositoryOptions } from "./organization.repository";

/** Decision records expire after 90 days (TTL); the monthly counters stay. */
const RECORD_TTL_SECONDS = 90 * 24 * 60 * 60;

export function createMeteringStore({ client, table, cursors = processCursors }: RepositoryOptions): MeteringStore {
  const counters = createUsageCounters(table);
  return {
    async reserve(orgId, period, amount, limit) {
      if (amount > limit) return false;
      try {
        await client.send(new UpdateCommand(counters.reserve(orgId, period, amount, limit)));
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    async release(orgId, period, amount) {
      await client.send(new UpdateCommand(counters.release(orgId, period, amount)));
    },

    async settle(period, reserved, record) {
      const { usage, usageDay } = counters.settle(period, reserved, record);
      const result = await transactWrite(client, [
        ["usage", usage],
        ["usageDay", usageDay],
        [
          "costRecord",
          {
            Put: {
              TableName: table,
              Item: {
                ...keys.usageRecord(record.orgId, record.id),
                ...entities.costRecord.stamp,
                ...record,
                ttl: Math.floor(Date.parse(record.time) / 1000) + RECORD_TTL_SECONDS,
              },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        ],
      ]);
      // Only the record has a condition: its id (a ULID) was settled already.
      if (!result.ok) throw conflict(`Usage record '${record.id}' is settled already.`, "usage_record_exists");
    },

    async listRecords(orgId, { limit, cursor }) {
      const result = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.usageRecordPrefix },
          ScanIndexForward: false,
          Limit: pageSize(limit),
          ExclusiveStartKey: cursors.decode(cursor, `records:${orgId}`, { pk: keys.tenantPk(orgId) }),
        }),
      );
      const items = (result.Items ?? []).map((i) => toEntity<UsageRecord>(i)!);
      const next = cursors.encode(result.LastEvaluatedKey, `records:${orgId}`);
      return next ? { items, cursor: next } : { items };
    },

    async modelDistribution(orgId, period) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.usage(orgId, period), ConsistentRead: true }));
      const distribution: Record<string, number> = {};
      for (const [name, value] of Object.entries(Item ?? {})) {
        if (name.startsWith(MODEL_COUNTER_PREFIX) && typeof value === "number") distribution[name.slice(MODEL_COUNTER_PREFIX.length)] = value;
      }
      return distribution;
    },

    async globalStats(period) {
      const stats: GlobalStats = {
        period,
        organizations: 0,
        queries: 0,
        slmQueries: 0,
        llmQueries: 0,
        inputTokens: 0,
        outputTokens: 0,
        costMicroUsd: 0,
        baselineMicroUsd: 0,
        models: {},
      };
      const num = (v: unknown) => (typeof v === "number" ? v : 0);
      for (const partition of keys.usageIndexPartitions(period)) {
        let start: Record<string, unknown> | undefined;
        do {
          const page = await client.send(
            new QueryCommand({ TableName: table, IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :p", ExpressionAttributeValues: { ":p": partition }, ExclusiveStartKey: start }),
          );
          for (const item of page.Items ?? []) {
            stats.organizations += 1;
            stats.queries += num(item.queries);
            stats.slmQueries += num(item.slmQueries);
            stats.llmQueries += num(item.llmQueries);
            stats.inputTokens += num(item.inputTokens);
            stats.outputTokens += num(item.outputTokens);
            stats.costMicroUsd += num(item.costMicroUsd);
            stats.baselineMicroUsd += num(item.llmBaselineMicroUsd);
            for (const [name, value] of Object.entries(item)) {
              if (name.startsWith(MODEL_COUNTER_PREFIX)) stats.models[name.slice(MODEL_COUNTER_PREFIX.length)] = (stats.models[name.slice(MODEL_COUNTER_PREFIX.length)] ?? 0) + num(value);
            }
          }
          start = page.LastEvaluatedKey;
        } while (start);
      }
      return stats;
    },
  };
}

export function createRoutingSettingsStore({ client, table }: RepositoryOptions): RoutingSettingsStore {
  return {
    async get(orgId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.routingSettings(orgId), ConsistentRead: true }));
      const settings = toEntity<RoutingSettings & { orgId?: string; updatedAt?: string }>(Item);
      return { override: settings?.override ?? null, calibration: settings?.calibration ?? null };
    },
    async put(orgId, settings, actor) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...keys.routingSettings(orgId),
            ...entities.settings.stamp,
            id: "routing",
            orgId,
            override: settings.override ?? null,
            calibration: settings.calibration ?? null,
            updatedAt: new Date().toISOString(),
            updatedBy: actor,
          },
        }),
      );
    },
  };
}
