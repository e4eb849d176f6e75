import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { conflict } from "../errors";
import type { RoutingSettings } from "../chat/chat.schema";
import type { GlobalStats, MeteringStore, Reservation, RoutingSettingsStore, UsageRecord } from "../metering/ports";
import { isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize, toEntity } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import { transactWrite } from "./transact";
import { createUsageCounters, MODEL_COUNTER_PREFIX, RESERVATION_PREFIX } from "./usage-counters";
import type { RepositoryOptions } from "./organization.repository";

/** Decision records expire after 90 days (TTL); the monthly counters stay. */
const RECORD_TTL_SECONDS = 90 * 24 * 60 * 60;

export function createMeteringStore({ client, table, cursors = processCursors }: RepositoryOptions): MeteringStore {
  const counters = createUsageCounters(table);

  /** Gives an open reservation back, exactly once (core/db/usage-counters.ts `release`). */
  async function giveBack(reservation: Reservation, expiredBy?: number): Promise<boolean> {
    try {
      await client.send(new UpdateCommand(counters.release(reservation, expiredBy)));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  return {
    async reserve(reservation, limit) {
      if (reservation.amountMicroUsd > limit) return false;
      try {
        await client.send(new UpdateCommand(counters.reserve(reservation, limit)));
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    release: (reservation) => giveBack(reservation),

    releaseExpired: (reservation, now) => giveBack(reservation, now),

    async settle(reservation, record) {
      const attempt = (open: boolean) => {
        return transactWrite(client, [
          ["usage", counters.settle(reservation, record, open)],
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
      };
      let result = await attempt(true);
      // The reservation is no longer open (the reconciler gave it back): the whole cost is added.
      if (!result.ok && result.failed === "usage") result = await attempt(false);
      // The record's id (a ULID) was settled already.
      if (!result.ok) throw conflict(`Usage record '${record.id}' is settled already.`, "usage_record_exists");
    },

    async expiredReservations(period, now, { limit, cursor }) {
      const partitions = keys.usageIndexPartitions(period);
      const scope = `reservations:${period}`;
      const position = cursors.decode(cursor, scope, {});
      let shard = position ? Number(position.shard) : 0;
      if (!Number.isInteger(shard) || shard < 0 || shard >= partitions.length) shard = 0;
      const { shard: _shard, ...start } = position ?? {};
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :p",
          // Read units are spent on every usage item of the partition; only those holding an open
          // reservation come back.
          FilterExpression: "openReservations > :zero",
          ExpressionAttributeValues: { ":p": partitions[shard]!, ":zero": 0 },
          Limit: pageSize(limit, 1_000),
          ...(Object.keys(start).length ? { ExclusiveStartKey: start } : {}),
        }),
      );
      const items: Reservation[] = [];
      for (const item of page.Items ?? []) {
        for (const [name, value] of Object.entries(item)) {
          if (!name.startsWith(RESERVATION_PREFIX) || !value || typeof value !== "object") continue;
          const { amount, expiresAt } = value as { amount?: unknown; expiresAt?: unknown };
          if (typeof amount !== "number" || typeof expiresAt !== "number" || expiresAt > now) continue;
          items.push({ id: name.slice(RESERVATION_PREFIX.length), orgId: String(item.orgId), period, amountMicroUsd: amount, expiresAt });
        }
      }
      const next = page.LastEvaluatedKey
        ? { shard: String(shard), ...(page.LastEvaluatedKey as Record<string, string>) }
        : shard + 1 < partitions.length
          ? { shard: String(shard + 1) }
          : undefined;
      const encoded = cursors.encode(next, scope);
      return encoded ? { items, cursor: encoded } : { items };
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
            entity: "settings",
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
