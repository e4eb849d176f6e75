import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { RoutingSettings } from "../chat/chat.schema";
import type { GlobalStats, MeteringStore, Reservation, RoutingSettingsStore, UsageRecord } from "../metering/ports";
import { isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize, toEntity } from "./item";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

/** Decision records expire after 90 days (TTL); the monthly counters stay. */
const RECORD_TTL_SECONDS = 90 * 24 * 60 * 60;
const MODEL_PREFIX = "model:";

/** An open reservation is an attribute `res:<id>` of its period's usage item: `{ amount, expiresAt }`. */
const RESERVATION_PREFIX = "res:";
const reservationAttribute = (id: string) => `${RESERVATION_PREFIX}${id}`;

/** Did a transaction fail because of the condition of its item at `index`? */
function isCanceledAt(error: unknown, index: number): boolean {
  if (!(error instanceof Error) || error.name !== "TransactionCanceledException") return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons[index]?.Code === "ConditionalCheckFailed";
}

export function createMeteringStore({ client, table, cursors = processCursors }: RepositoryOptions): MeteringStore {
  /**
   * Gives an open reservation back, exactly once: its attribute is removed and its amount subtracted by
   * one conditional update, so of a release, a settle and the reconciler racing for the same
   * reservation only one can close it. `expiredBy`: only if it expired before then (the reconciler).
   */
  async function giveBack(reservation: Reservation, expiredBy?: number): Promise<boolean> {
    try {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: keys.usage(reservation.orgId, reservation.period),
          UpdateExpression: "ADD committedMicroUsd :neg, openReservations :minusOne REMOVE #res",
          ConditionExpression: expiredBy === undefined ? "#res.amount = :amount" : "#res.amount = :amount AND #res.expiresAt <= :now",
          ExpressionAttributeNames: { "#res": reservationAttribute(reservation.id) },
          ExpressionAttributeValues: {
            ":neg": -reservation.amountMicroUsd,
            ":minusOne": -1,
            ":amount": reservation.amountMicroUsd,
            ...(expiredBy === undefined ? {} : { ":now": expiredBy }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }

  return {
    async reserve(reservation, limit) {
      const { orgId, period, amountMicroUsd: amount } = reservation;
      if (amount > limit) return false;
      try {
        // DynamoDB conditions cannot add, so the bound is computed here: committed <= limit - amount.
        // `committedMicroUsd` = settled cost + open reservations, one number, so one condition suffices.
        // The open reservation itself (amount, expiry) is an attribute of the same item, written by the
        // same update: no second item and no transaction, and a crash can never leave one without the other.
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.usage(orgId, period),
            UpdateExpression:
              "ADD committedMicroUsd :amount, openReservations :one SET #res = :res, entity = :entity, orgId = :org, period = :period, gsi1pk = :g, gsi1sk = :org",
            ConditionExpression: "(attribute_not_exists(committedMicroUsd) OR committedMicroUsd <= :max) AND attribute_not_exists(#res)",
            ExpressionAttributeNames: { "#res": reservationAttribute(reservation.id) },
            ExpressionAttributeValues: {
              ":amount": amount,
              ":one": 1,
              ":res": { amount, expiresAt: reservation.expiresAt },
              ":max": limit - amount,
              ":entity": "usage",
              ":org": orgId,
              ":period": period,
              ":g": keys.usageIndex(orgId, period).gsi1pk,
            },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    release: (reservation) => giveBack(reservation),

    releaseExpired: (reservation, now) => giveBack(reservation, now),

    async settle(reservation, record) {
      const { period } = reservation;
      const slm = record.tier === "slm" ? 1 : 0;
      const counters = {
        ":one": 1,
        ":slm": slm,
        ":llm": 1 - slm,
        ":in": record.inputTokens,
        ":out": record.outputTokens,
        ":cost": record.costMicroUsd,
        ":base": record.baselineMicroUsd,
        ":offline": record.offline ? 1 : 0,
        ":fallback": record.attempts.length > 1 ? 1 : 0,
      };
      const add =
        "queries :one, slmQueries :slm, llmQueries :llm, inputTokens :in, outputTokens :out, costMicroUsd :cost, " +
        "llmBaselineMicroUsd :base, offlineQueries :offline, fallbacks :fallback, #model :one";
      const names = { "#model": `${MODEL_PREFIX}${record.model}` };
      const usageUpdate = (open: boolean) => ({
        TableName: table,
        Key: keys.usage(record.orgId, period),
        // Open: the reservation is closed here (removed, its amount replaced by the cost). No longer
        // open: the reconciler gave it back already, so the whole cost is added.
        UpdateExpression: open
          ? `ADD ${add}, committedMicroUsd :delta, openReservations :minusOne SET entity = :entity, orgId = :org, period = :period, gsi1pk = :g, gsi1sk = :org REMOVE #res`
          : `ADD ${add}, committedMicroUsd :delta SET entity = :entity, orgId = :org, period = :period, gsi1pk = :g, gsi1sk = :org`,
        ...(open ? { ConditionExpression: "attribute_exists(#res)" } : {}),
        ExpressionAttributeNames: { ...names, ...(open ? { "#res": reservationAttribute(reservation.id) } : {}) },
        ExpressionAttributeValues: {
          ...counters,
          ":delta": open ? record.costMicroUsd - reservation.amountMicroUsd : record.costMicroUsd,
          ...(open ? { ":minusOne": -1 } : {}),
          ":entity": "usage",
          ":org": record.orgId,
          ":period": period,
          ":g": keys.usageIndex(record.orgId, period).gsi1pk,
        },
      });
      const transaction = (open: boolean) =>
        new TransactWriteCommand({
          TransactItems: [
            { Update: usageUpdate(open) },
            {
              Update: {
                TableName: table,
                Key: keys.usageDay(record.orgId, record.time.slice(0, 10)),
                UpdateExpression: `ADD ${add} SET entity = :entity, orgId = :org, #day = :day`,
                ExpressionAttributeNames: { ...names, "#day": "day" },
                ExpressionAttributeValues: { ...counters, ":entity": "usageDay", ":org": record.orgId, ":day": record.time.slice(0, 10) },
              },
            },
            {
              Put: {
                TableName: table,
                Item: {
                  ...keys.usageRecord(record.orgId, record.id),
                  entity: "costRecord",
                  ...record,
                  ttl: Math.floor(Date.parse(record.time) / 1000) + RECORD_TTL_SECONDS,
                },
                ConditionExpression: "attribute_not_exists(pk)",
              },
            },
          ],
        });
      try {
        await client.send(transaction(true));
      } catch (error) {
        // Only the reservation's own condition (the first item) sends the settle down the other path.
        if (!isCanceledAt(error, 0)) throw error;
        await client.send(transaction(false));
      }
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
        if (name.startsWith(MODEL_PREFIX) && typeof value === "number") distribution[name.slice(MODEL_PREFIX.length)] = value;
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
              if (name.startsWith(MODEL_PREFIX)) stats.models[name.slice(MODEL_PREFIX.length)] = (stats.models[name.slice(MODEL_PREFIX.length)] ?? 0) + num(value);
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
