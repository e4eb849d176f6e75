import { createHash } from "node:crypto";
import { GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { FeedbackStore, RoutingFeedback, UsageRecord } from "../metering/ports";
import { conditionFailedItem, isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { entities } from "./entities";
import { pageSize } from "./item";
import { keys } from "./keys";
import { RECORD_TTL_SECONDS } from "./metering.repository";
import type { RepositoryOptions } from "./organization.repository";

/** What a feedback says (rating, flag, comment), as a short fingerprint the write's condition compares. */
const verdictOf = (f: RoutingFeedback): string =>
  createHash("sha256")
    .update(JSON.stringify([f.rating, f.neededLargeModel, f.comment]))
    .digest("hex")
    .slice(0, 32);

/**
 * Feedback on completions, one item per completion (`FEEDBACK#<recordId>` beside its `REC#` cost
 * record), expiring with the record it rates.
 */
export function createFeedbackStore({ client, table, cursors = processCursors }: RepositoryOptions): FeedbackStore {
  const entity = entities.routingFeedback;
  return {
    async decision(orgId, recordId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.usageRecord(orgId, recordId), ConsistentRead: true }));
      return entities.costRecord.fromItem<UsageRecord>(Item);
    },

    async put(feedback) {
      const verdict = verdictOf(feedback);
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...keys.routingFeedback(feedback.orgId, feedback.recordId),
              ...entity.stamp,
              ...feedback,
              verdict,
              ttl: Math.floor(Date.parse(feedback.decision.time) / 1000) + RECORD_TTL_SECONDS,
            },
            // A second feedback replaces the first; the same one again writes nothing (no audit entry,
            // no new time), so a client that retries is idempotent.
            ConditionExpression: "attribute_not_exists(pk) OR verdict <> :verdict",
            ExpressionAttributeValues: { ":verdict": verdict },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return { changed: true, stored: feedback };
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        return { changed: false, stored: entity.fromItem<RoutingFeedback>(conditionFailedItem(error)) ?? feedback };
      }
    },

    async list(orgId, { limit, cursor }) {
      const scope = `feedback:${orgId}`;
      const result = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.routingFeedbackPrefix },
          ScanIndexForward: false,
          Limit: pageSize(limit),
          ExclusiveStartKey: cursors.decode(cursor, scope, { pk: keys.tenantPk(orgId) }),
        }),
      );
      const items = (result.Items ?? []).map((i) => entity.fromItem<RoutingFeedback>(i)!);
      const next = cursors.encode(result.LastEvaluatedKey, scope);
      return next ? { items, cursor: next } : { items };
    },
  };
}
