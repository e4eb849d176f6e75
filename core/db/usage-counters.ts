import type { UpdateCommandInput } from "@aws-sdk/lib-dynamodb";
import type { Reservation, UsageRecord } from "../metering/ports";
import { entities } from "./entities";
import { keys } from "./keys";
import type { TransactItem } from "./transact";

/**
 * The usage and counter items (a month's usage, a day's usage, the agents counter, the ticket number
 * sequences) and every write to them, in one place: the repositories that enforce a quota or meter a
 * query take their writes from here, as transaction parts (`Update` / `ConditionCheck`) or as single
 * UpdateItem requests, so each counter's attributes and conditions are spelled once.
 *
 * Every quota write is a conditional update, never read-then-write: DynamoDB evaluates the condition
 * and the increment atomically, so concurrent requests cannot overrun a limit.
 */

/** Usage attributes per model are `model:<name>` (counted per query). */
export const MODEL_COUNTER_PREFIX = "model:";

/** An open reservation is an attribute `res:<id>` of its period's usage item: `{ amount, expiresAt }`. */
export const RESERVATION_PREFIX = "res:";
const reservationAttribute = (id: string) => `${RESERVATION_PREFIX}${id}`;
/** What an open reservation attribute holds; the key's id lets the reconciler close both of its items. */
const reservationValue = (r: Reservation) => ({ amount: r.amountMicroUsd, expiresAt: r.expiresAt, ...(r.keyId ? { keyId: r.keyId } : {}) });

/**
 * The month's usage item is created by whichever write comes first: each one stamps what the item is.
 * It is in no index: every query writes it twice (reserve, settle), and an index copy would cost a
 * write unit more each time; the reconciler and the operator's stats find it by organization
 * (core/db/metering.repository.ts). `remove` takes an item written before that out of the index.
 */
const monthStamp = (orgId: string, period: string) => ({
  set: "entity = :entity, orgId = :org, period = :period",
  remove: "gsi1pk, gsi1sk",
  values: { ":entity": entities.usage.name, ":org": orgId, ":period": period },
});

/** `count = expected` on the agents counter (a missing count is 0). */
const agentCountIs = (expected: number) =>
  expected === 0
    ? { expression: "(attribute_not_exists(#count) OR #count = :count)", values: { ":count": 0 } }
    : { expression: "#count = :count", values: { ":count": expected } };

export function createUsageCounters(table: string) {
  /** Gives an open reservation back (see `release` below). */
  function releaseOn(reservation: Reservation, expiredBy?: number): UpdateCommandInput {
    return {
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
    };
  }

  return {
    /** The monthly ticket quota: +1 ticket while fewer than `limit` (a refused ticket is never counted). */
    ticketQuota(orgId: string, period: string, limit: number): TransactItem {
      const stamp = monthStamp(orgId, period);
      return {
        Update: {
          TableName: table,
          Key: keys.usage(orgId, period),
          UpdateExpression: `ADD tickets :one SET ${stamp.set} REMOVE ${stamp.remove}`,
          ConditionExpression: "attribute_not_exists(tickets) OR tickets < :limit",
          ExpressionAttributeValues: { ":one": 1, ":limit": limit, ...stamp.values },
        },
      };
    },

    /**
     * A budget reservation against the month's spend limit. DynamoDB conditions cannot add, so the
     * bound is computed here: committed <= limit - amount. `committedMicroUsd` = settled cost + open
     * reservations, one number, so one condition suffices. The open reservation itself (amount,
     * expiry) is an attribute of the same item, written by the same update: no second item and no
     * transaction, and a crash can never leave one without the other (the reconciler finds it).
     */
    reserve(reservation: Reservation, limit: number): UpdateCommandInput {
      const { orgId, period, amountMicroUsd: amount } = reservation;
      const stamp = monthStamp(orgId, period);
      return {
        TableName: table,
        Key: keys.usage(orgId, period),
        UpdateExpression: `ADD committedMicroUsd :amount, openReservations :one SET #res = :res, ${stamp.set} REMOVE ${stamp.remove}`,
        ConditionExpression: "(attribute_not_exists(committedMicroUsd) OR committedMicroUsd <= :max) AND attribute_not_exists(#res)",
        ExpressionAttributeNames: { "#res": reservationAttribute(reservation.id) },
        ExpressionAttributeValues: { ":amount": amount, ":one": 1, ":res": reservationValue(reservation), ":max": limit - amount, ...stamp.values },
      };
    },

    /**
     * The same reservation against the key's own monthly budget, on the key's month item (the other
     * part of the transaction that reserves on the organization's: core/db/metering.repository.ts).
     */
    keyReserve(reservation: Reservation & { keyId: string }, limit: number): TransactItem {
      const { orgId, period, keyId, amountMicroUsd: amount } = reservation;
      return {
        Update: {
          TableName: table,
          Key: keys.keyUsage(orgId, period, keyId),
          UpdateExpression: "ADD committedMicroUsd :amount, openReservations :one SET #res = :res, entity = :entity, orgId = :org, period = :period, keyId = :key",
          ConditionExpression: "(attribute_not_exists(committedMicroUsd) OR committedMicroUsd <= :max) AND attribute_not_exists(#res)",
          ExpressionAttributeNames: { "#res": reservationAttribute(reservation.id) },
          ExpressionAttributeValues: {
            ":amount": amount,
            ":one": 1,
            ":res": reservationValue(reservation),
            ":max": limit - amount,
            ":entity": entities.keyUsage.name,
            ":org": orgId,
            ":period": period,
            ":key": keyId,
          },
        },
      };
    },

    /** `release` on the key's month item (same condition: the reservation is still open there). */
    keyRelease(reservation: Reservation & { keyId: string }, expiredBy?: number): TransactItem {
      const { TableName, ExpressionAttributeNames, ExpressionAttributeValues, UpdateExpression, ConditionExpression } = releaseOn(reservation, expiredBy);
      return { Update: { TableName: TableName!, Key: keys.keyUsage(reservation.orgId, reservation.period, reservation.keyId), UpdateExpression: UpdateExpression!, ConditionExpression: ConditionExpression!, ExpressionAttributeNames: ExpressionAttributeNames!, ExpressionAttributeValues: ExpressionAttributeValues! } };
    },

    /** A query's settlement on the key's month item: its cost replaces the reservation (see `settle`). */
    keySettle(reservation: Reservation & { keyId: string }, record: UsageRecord, open: boolean): TransactItem {
      return {
        Update: {
          TableName: table,
          Key: keys.keyUsage(reservation.orgId, reservation.period, reservation.keyId),
          UpdateExpression: open
            ? "ADD queries :one, costMicroUsd :cost, committedMicroUsd :delta, openReservations :minusOne REMOVE #res"
            : "ADD queries :one, costMicroUsd :cost, committedMicroUsd :delta",
          ...(open ? { ConditionExpression: "attribute_exists(#res)", ExpressionAttributeNames: { "#res": reservationAttribute(reservation.id) } } : {}),
          ExpressionAttributeValues: {
            ":one": 1,
            ":cost": record.costMicroUsd,
            ":delta": open ? record.costMicroUsd - reservation.amountMicroUsd : record.costMicroUsd,
            ...(open ? { ":minusOne": -1 } : {}),
          },
        },
      };
    },

    /**
     * Gives an open reservation back, exactly once: its attribute is removed and its amount subtracted
     * by one conditional update, so of a release, a settle and the reconciler racing for the same
     * reservation only one can close it. `expiredBy`: only if it expired before then (the reconciler).
     */
    release: releaseOn,

    /**
     * A query's settlement on the month: its counters, and its reservation replaced by the real cost
     * (one transaction part, with the cost record beside it). `open`: the reservation is still open
     * and is closed here (condition: it exists); not open, the reconciler gave it back already, so
     * the whole cost is added.
     */
    settle(reservation: Reservation, record: UsageRecord, open: boolean): TransactItem {
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
      const names = { "#model": `${MODEL_COUNTER_PREFIX}${record.model}` };
      const stamp = monthStamp(record.orgId, period);
      return {
        Update: {
          TableName: table,
          Key: keys.usage(record.orgId, period),
          UpdateExpression: open
            ? `ADD ${add}, committedMicroUsd :delta, openReservations :minusOne SET ${stamp.set} REMOVE #res, ${stamp.remove}`
            : `ADD ${add}, committedMicroUsd :delta SET ${stamp.set} REMOVE ${stamp.remove}`,
          ...(open ? { ConditionExpression: "attribute_exists(#res)" } : {}),
          ExpressionAttributeNames: { ...names, ...(open ? { "#res": reservationAttribute(reservation.id) } : {}) },
          ExpressionAttributeValues: {
            ...counters,
            ":delta": open ? record.costMicroUsd - reservation.amountMicroUsd : record.costMicroUsd,
            ...(open ? { ":minusOne": -1 } : {}),
            ...stamp.values,
          },
        },
      };
    },

    /** The agents quota: +1 agent alive while fewer than `limit` (racing creates cannot pass it). */
    agentQuota(orgId: string, limit: number): TransactItem {
      return {
        Update: {
          TableName: table,
          Key: keys.counter(orgId, "agents"),
          UpdateExpression: "ADD #count :one SET entity = :entity, orgId = :org, id = :id",
          ConditionExpression: "attribute_not_exists(#count) OR #count < :limit",
          ExpressionAttributeNames: { "#count": "count" },
          ExpressionAttributeValues: { ":one": 1, ":limit": limit, ":entity": entities.counter.name, ":org": orgId, ":id": "agents" },
        },
      };
    },

    /** One agent fewer, if the count is still the one the decision was made on (no agent created meanwhile). */
    agentRemoved(orgId: string, expected: number): TransactItem {
      const condition = agentCountIs(expected);
      return {
        Update: {
          TableName: table,
          Key: keys.counter(orgId, "agents"),
          UpdateExpression: "ADD #count :minus",
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: { "#count": "count" },
          ExpressionAttributeValues: { ":minus": -1, ...condition.values },
        },
      };
    },

    /** No agent was created since the decision (creates move the count). */
    agentsUnchanged(orgId: string, expected: number): TransactItem {
      const condition = agentCountIs(expected);
      return {
        ConditionCheck: {
          TableName: table,
          Key: keys.counter(orgId, "agents"),
          ConditionExpression: condition.expression,
          ExpressionAttributeNames: { "#count": "count" },
          ExpressionAttributeValues: condition.values,
        },
      };
    },

    /** The next number of a ticket type's sequence (`INC`, `REQ`, ...): the new count comes back. */
    nextTicketNumber(orgId: string, prefix: string): UpdateCommandInput {
      return {
        TableName: table,
        Key: keys.ticketNumberCounter(orgId, prefix),
        UpdateExpression: "ADD #count :one SET entity = :entity, orgId = :org",
        ExpressionAttributeNames: { "#count": "count" },
        ExpressionAttributeValues: { ":one": 1, ":entity": entities.counter.name, ":org": orgId },
        ReturnValues: "UPDATED_NEW",
      };
    },

    /** Gives number `taken` back, only while it is still the last one taken (no later number is ever reused). */
    returnTicketNumber(orgId: string, prefix: string, taken: number): UpdateCommandInput {
      return {
        TableName: table,
        Key: keys.ticketNumberCounter(orgId, prefix),
        UpdateExpression: "ADD #count :minusOne",
        ConditionExpression: "#count = :taken",
        ExpressionAttributeNames: { "#count": "count" },
        ExpressionAttributeValues: { ":minusOne": -1, ":taken": taken },
      };
    },
  };
}

export type UsageCounters = ReturnType<typeof createUsageCounters>;
