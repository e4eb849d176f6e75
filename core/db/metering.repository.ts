import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { conflict } from "../errors";
import { BATCH_GET_LIMIT, batchGetAll } from "./batch";
import type { RoutingSettings } from "../chat/chat.schema";
import type { GlobalStats, MeteringStore, Reservation, RoutingSettingsStore, UsageRecord } from "../metering/ports";
import { isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize, toEntity } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import { type TransactItem, transactWrite } from "./transact";
import { newId } from "../ids";
import { createUsageCounters, MODEL_COUNTER_PREFIX, RESERVATION_PREFIX } from "./usage-counters";
import type { RepositoryOptions } from "./organization.repository";

/** Decision records expire after 90 days (TTL); the monthly counters stay. */
export const RECORD_TTL_SECONDS = 90 * 24 * 60 * 60;

export function createMeteringStore({ client, table, cursors = processCursors }: RepositoryOptions): MeteringStore {
  const counters = createUsageCounters(table);

  /**
   * The month's usage items of a page of organizations (the operator's list, gsi1 `ORGS`), for the
   * reconciler and the operator's stats. Usage items are in no index (every query writes one twice,
   * core/db/usage-counters.ts), so they are found by organization: one query and one batch read per
   * page, eventually consistent (the reconciler's release is conditional, the stats are a report).
   */
  async function usageOfOrganizations(period: string, { limit, cursor }: { limit?: number; cursor?: string }, scope: string) {
    const page = await client.send(
      new QueryCommand({
        TableName: table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p",
        ExpressionAttributeValues: { ":p": keys.organizationsPartition },
        ProjectionExpression: "gsi1sk",
        Limit: pageSize(limit, BATCH_GET_LIMIT),
        ExclusiveStartKey: cursors.decode(cursor, scope, { gsi1pk: keys.organizationsPartition }),
      }),
    );
    const items = await batchGetAll(client, table, (page.Items ?? []).map((item) => keys.usage(String(item.gsi1sk), period)));
    const next = cursors.encode(page.LastEvaluatedKey, scope);
    return { items, ...(next ? { cursor: next } : {}) };
  }

  /**
   * Gives an open reservation back, exactly once (core/db/usage-counters.ts `release`). One held by a
   * key's budget too is closed on both items in one transaction; should the key's item no longer hold
   * it (it cannot, short of a hand edit), the organization's is closed alone rather than left open.
   */
  async function giveBack(reservation: Reservation, expiredBy?: number): Promise<boolean> {
    if (reservation.keyId) {
      const held = { ...reservation, keyId: reservation.keyId };
      const result = await transactWrite(client, [
        ["usage", { Update: counters.release(reservation, expiredBy) as NonNullable<TransactItem["Update"]> }],
        ["keyUsage", counters.keyRelease(held, expiredBy)],
      ]);
      if (result.ok) return true;
      if (result.conditions.includes("usage")) return false;
    }
    try {
      await client.send(new UpdateCommand(counters.release(reservation, expiredBy)));
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  return {
    async reserve(reservation, limit, keyLimit) {
      if (reservation.amountMicroUsd > limit) return "budget_exceeded";
      if (reservation.keyId && keyLimit !== undefined) {
        if (reservation.amountMicroUsd > keyLimit) return "key_budget_exceeded";
        // Both budgets hold it or neither does: one transaction (twice the write units, for budgeted keys only).
        const result = await transactWrite(client, [
          ["usage", { Update: counters.reserve(reservation, limit) as NonNullable<TransactItem["Update"]> }],
          ["keyUsage", counters.keyReserve({ ...reservation, keyId: reservation.keyId }, keyLimit)],
        ]);
        return result.ok ? "reserved" : result.failed === "usage" ? "budget_exceeded" : "key_budget_exceeded";
      }
      try {
        await client.send(new UpdateCommand(counters.reserve(reservation, limit)));
        return "reserved";
      } catch (error) {
        if (isConditionFailed(error)) return "budget_exceeded";
        throw error;
      }
    },

    release: (reservation) => giveBack(reservation),

    releaseExpired: (reservation, now) => giveBack(reservation, now),

    async settle(reservation, record) {
      const attempt = (open: boolean) => {
        return transactWrite(client, [
          ["usage", counters.settle(reservation, record, open)],
          ...(reservation.keyId ? [["keyUsage", counters.keySettle({ ...reservation, keyId: reservation.keyId }, record, open)] as const] : []),
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
      const page = await usageOfOrganizations(period, { ...(limit !== undefined ? { limit } : {}), ...(cursor ? { cursor } : {}) }, `reservations:${period}`);
      const items: Reservation[] = [];
      for (const item of page.items) {
        // Only usage items holding an open reservation can hold an expired one.
        if (!(typeof item.openReservations === "number" && item.openReservations > 0)) continue;
        for (const [name, value] of Object.entries(item)) {
          if (!name.startsWith(RESERVATION_PREFIX) || !value || typeof value !== "object") continue;
          const { amount, expiresAt, keyId } = value as { amount?: unknown; expiresAt?: unknown; keyId?: unknown };
          if (typeof amount !== "number" || typeof expiresAt !== "number" || expiresAt > now) continue;
          items.push({ id: name.slice(RESERVATION_PREFIX.length), orgId: String(item.orgId), period, amountMicroUsd: amount, expiresAt, ...(typeof keyId === "string" ? { keyId } : {}) });
        }
      }
      return page.cursor ? { items, cursor: page.cursor } : { items };
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
      let cursor: string | undefined;
      do {
        const page = await usageOfOrganizations(period, { ...(cursor ? { cursor } : {}) }, `stats:${period}`);
        for (const item of page.items) {
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
        cursor = page.cursor;
      } while (cursor);
      return stats;
    },
  };
}

export function createRoutingSettingsStore({ client, table }: RepositoryOptions): RoutingSettingsStore {
  const item = (orgId: string, settings: RoutingSettings, actor: string) => ({
    ...keys.routingSettings(orgId),
    entity: "settings",
    id: "routing",
    orgId,
    override: settings.override ?? null,
    calibration: settings.calibration ?? null,
    // Changes with every write: what a conditional `replace` compares (a time could repeat within a millisecond).
    revision: newId(),
    updatedAt: new Date().toISOString(),
    updatedBy: actor,
  });
  async function read(orgId: string) {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.routingSettings(orgId), ConsistentRead: true }));
    const settings = toEntity<RoutingSettings & { orgId?: string; updatedAt?: string; revision?: string }>(Item);
    return {
      settings: { override: settings?.override ?? null, calibration: settings?.calibration ?? null },
      revision: typeof settings?.revision === "string" ? settings.revision : null,
    };
  }
  return {
    get: async (orgId) => (await read(orgId)).settings,
    read,
    async put(orgId, settings, actor) {
      await client.send(new PutCommand({ TableName: table, Item: item(orgId, settings, actor) }));
    },
    async replace(orgId, settings, actor, revision) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: item(orgId, settings, actor),
            // Settings written before revisions existed have none: those count as revision null.
            ...(revision === null
              ? { ConditionExpression: "attribute_not_exists(revision)" }
              : { ConditionExpression: "revision = :revision", ExpressionAttributeValues: { ":revision": revision } }),
          }),
        );
      } catch (error) {
        if (isConditionFailed(error)) throw conflict("The routing settings changed meanwhile; read them again and retry.", "routing_settings_changed");
        throw error;
      }
    },
  };
}
