import { UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { BucketRef, RateLimitStore, WriteResult } from "../ratelimit/ports";
import { isConditionFailed } from "./client";
import { entities } from "./entities";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

/** The entity type of bucket items: audit noise (core/db/entities.ts), never in the audit log. */
export const RATE_WINDOW_ENTITY = entities.rateWindow.name;

/**
 * Rate-limit buckets as single DynamoDB items `{pk, sk, entity, tat, ttl}` (keys.rateWindow). Each
 * call is one conditional UpdateItem and nothing else: no read before it (the condition is the read),
 * and a refused write returns the stored item (ReturnValuesOnConditionCheckFailure = ALL_OLD, which
 * costs no read capacity), so the caller learns the TAT it lost to. 1 WRU per call for these
 * sub-1 KB items, whether it succeeds or not.
 */
export function createRateLimitStore({ client, table }: RepositoryOptions): RateLimitStore {
  async function write(ref: BucketRef, update: string, condition: string, values: Record<string, unknown>): Promise<WriteResult> {
    try {
      const { Attributes } = await client.send(
        new UpdateCommand({
          TableName: table,
          Key: keys.rateWindow(ref.orgId, ref.bucket),
          UpdateExpression: update,
          ConditionExpression: condition,
          // `ttl` is a DynamoDB reserved word.
          ExpressionAttributeNames: { "#ttl": "ttl" },
          ExpressionAttributeValues: values,
          ReturnValues: "UPDATED_NEW",
          ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }),
      );
      return { ok: true, tat: Number(Attributes?.tat) };
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      // The document client does not unmarshall the item of a ConditionalCheckFailedException.
      const stored = (error as { Item?: { tat?: { N?: string } } }).Item?.tat?.N;
      return { ok: false, tat: stored === undefined ? undefined : Number(stored) };
    }
  }

  return {
    restart: (ref, { now, next, expiresAt }) =>
      write(ref, "SET tat = :next, #ttl = :ttl, entity = :entity", "attribute_not_exists(tat) OR tat <= :now", {
        ":next": next,
        ":now": now,
        ":ttl": expiresAt,
        ":entity": RATE_WINDOW_ENTITY,
      }),

    advance: (ref, { now, increment, atMost, expiresAt }) =>
      // DynamoDB conditions cannot add, so the room check is precomputed: TAT + increment <= now + tolerance.
      write(ref, "SET tat = tat + :inc, #ttl = :ttl", "tat > :now AND tat <= :atMost", {
        ":inc": increment,
        ":now": now,
        ":atMost": atMost,
        ":ttl": expiresAt,
      }),

    rebase: (ref, { from, to, expiresAt }) =>
      write(ref, "SET tat = :to, #ttl = :ttl", "tat = :from", { ":from": from, ":to": to, ":ttl": expiresAt }),
  };
}
