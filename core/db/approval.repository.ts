import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { ApprovalRecord, ApprovalStore } from "../approvals/ports";
import { conditionFailedItem, isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { entities } from "./entities";
import { pageSize } from "./item";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

/** Query pages one filtered list reads at most (DynamoDB's Limit counts items before the filter). */
const MAX_QUERY_PAGES = 10;

/** Approval requests (core/approvals) in the tenant partition, `APPROVAL#<ulid>`. */
export function createApprovalStore({ client, table, cursors = processCursors }: RepositoryOptions): ApprovalStore {
  const fromItem = (item: Record<string, unknown> | undefined) => entities.approval.fromItem<ApprovalRecord>(item);

  return {
    async create(record) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.approval(record.orgId, record.id), ...entities.approval.stamp, ...record, updatedBy: `agent:${record.requestedBy}` },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    },

    async get(orgId, id) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.approval(orgId, id), ConsistentRead: true }));
      return fromItem(Item);
    },

    async list(orgId, { status, now }, { limit, cursor }) {
      const size = pageSize(limit);
      const scope = `approvals:${orgId}:${status ?? "all"}`;
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = { ":pk": keys.tenantPk(orgId), ":prefix": keys.approvalPrefix };
      let filter: string | undefined;
      if (status) {
        names["#status"] = "status";
        if (status === "pending" || status === "expired") {
          names["#expiresAt"] = "expiresAt";
          values[":status"] = "pending";
          values[":now"] = now;
          filter = `#status = :status AND #expiresAt ${status === "pending" ? ">" : "<="} :now`;
        } else {
          values[":status"] = status;
          filter = "#status = :status";
        }
      }
      const items: ApprovalRecord[] = [];
      let start = cursors.decode(cursor, scope, { pk: keys.tenantPk(orgId) });
      // A filtered list keeps reading until it has a page or its query budget is spent; the cursor
      // then is where the last query stopped, so nothing is skipped (a page may be short).
      for (let n = 0; n < MAX_QUERY_PAGES; n++) {
        const page = await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ...(filter ? { FilterExpression: filter, ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
            ScanIndexForward: false,
            Limit: size - items.length,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        items.push(...(page.Items ?? []).map((i) => fromItem(i)!));
        start = page.LastEvaluatedKey;
        if (!start || items.length >= size) break;
      }
      const next = cursors.encode(start, scope);
      return next ? { items, cursor: next } : { items };
    },

    async decide(orgId, id, decision) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.approval(orgId, id),
            UpdateExpression: `SET #status = :status, decidedBy = :by, decidedByName = :name, decidedAt = :at, updatedBy = :by${decision.reason !== undefined ? ", reason = :reason" : ""}`,
            ConditionExpression: "attribute_exists(pk) AND #status = :pending AND expiresAt > :at",
            ExpressionAttributeNames: { "#status": "status" },
            ExpressionAttributeValues: {
              ":status": decision.status,
              ":by": decision.decidedBy,
              ":name": decision.decidedByName,
              ":at": decision.decidedAt,
              ":pending": "pending",
              ...(decision.reason !== undefined ? { ":reason": decision.reason } : {}),
            },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return "ok";
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const current = conditionFailedItem(error);
        if (!current) return "missing";
        return current.status === "pending" ? "expired" : "decided";
      }
    },

    async recordOutcome(orgId, id, outcome) {
      await client.send(
        new UpdateCommand({
          TableName: table,
          Key: keys.approval(orgId, id),
          UpdateExpression: "SET outcome = :outcome",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(outcome)",
          ExpressionAttributeValues: { ":outcome": outcome },
        }),
      );
    },
  };
}
