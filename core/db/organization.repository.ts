import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { conflict, notFound } from "../errors";
import type { Organization } from "../tenants/organization.schema";
import type { Actor, OrganizationStore, Page, PageRequest } from "../tenants/ports";
import { conditionFailedItem, isConditionFailed } from "./client";
import { type CursorCodec, processCursors } from "./cursor";
import { pageSize } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";

export interface RepositoryOptions {
  client: DynamoDBDocumentClient;
  table: string;
  /** Signs and checks pagination cursors; default: a secret of this process (tests, tools). */
  cursors?: CursorCodec;
}

export function createOrganizationStore({ client, table, cursors = processCursors }: RepositoryOptions): OrganizationStore {
  const item = (org: Organization, actor: Actor) => ({
    ...keys.organization(org.id),
    ...keys.organizationIndex(org.id),
    ...entities.organization.stamp,
    orgId: org.id,
    ...org,
    version: org.version ?? 1,
    updatedBy: actor,
  });

  return {
    async create(org, actor) {
      try {
        await client.send(
          new PutCommand({ TableName: table, Item: item(org, actor), ConditionExpression: "attribute_not_exists(pk)" }),
        );
      } catch (error) {
        if (isConditionFailed(error)) throw conflict(`Organization '${org.id}' already exists.`);
        throw error;
      }
    },

    async get(orgId) {
      const { Item } = await client.send(
        new GetCommand({ TableName: table, Key: keys.organization(orgId), ConsistentRead: true }),
      );
      return stripOrgId(Item);
    },

    async list({ limit, cursor }: PageRequest): Promise<Page<Organization>> {
      const result = await client.send(
        new QueryCommand({
          TableName: table,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :p",
          ExpressionAttributeValues: { ":p": keys.organizationsPartition },
          Limit: pageSize(limit),
          ExclusiveStartKey: cursors.decode(cursor, "organizations", { gsi1pk: keys.organizationsPartition }),
        }),
      );
      const items = (result.Items ?? []).map((i) => stripOrgId(i)!);
      const next = cursors.encode(result.LastEvaluatedKey, "organizations");
      return next ? { items, cursor: next } : { items };
    },

    async update(orgId, changes, expected, at, actor) {
      const names: Record<string, string> = { "#status": "status", "#version": "version" };
      const values: Record<string, unknown> = { ":active": "active", ":at": at, ":actor": actor, ":one": 1, ":zero": 0 };
      const sets = ["updatedAt = :at", "updatedBy = :actor", "#version = if_not_exists(#version, :zero) + :one"];
      Object.entries(changes).forEach(([name, value], i) => {
        if (value === undefined) return;
        names[`#c${i}`] = name;
        values[`:c${i}`] = value;
        sets.push(`#c${i} = :c${i}`);
      });
      // Conditions on exactly what the decision read: an update of other attributes does not conflict.
      const conditions = ["attribute_exists(pk)", "#status = :active"];
      Object.entries(expected).forEach(([name, value], i) => {
        names[`#e${i}`] = name;
        values[`:e${i}`] = value;
        conditions.push(`#e${i} = :e${i}`);
      });
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.organization(orgId),
            UpdateExpression: `SET ${sets.join(", ")}`,
            ConditionExpression: conditions.join(" AND "),
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return stripOrgId(Attributes)!;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        if (!conditionFailedItem(error)) throw notFound("Organization", orgId);
        return "conflict";
      }
    },

    async close(orgId, at, actor) {
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.organization(orgId),
            // Only the status and its timestamps: a concurrent update of other attributes cannot undo it,
            // and it cannot undo them. Closing twice keeps the first closedAt.
            UpdateExpression: "SET #status = :closed, closedAt = if_not_exists(closedAt, :at), updatedAt = :at, updatedBy = :actor, #version = if_not_exists(#version, :zero) + :one",
            ConditionExpression: "attribute_exists(pk) AND #status <> :closed",
            ExpressionAttributeNames: { "#status": "status", "#version": "version" },
            ExpressionAttributeValues: { ":closed": "closed", ":at": at, ":actor": actor, ":zero": 0, ":one": 1 },
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return stripOrgId(Attributes)!;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        const old = conditionFailedItem(error);
        if (!old) throw notFound("Organization", orgId);
        return stripOrgId(old)!; // closed already
      }
    },

    async setRateLimits(orgId, override, actor, at) {
      // One attribute and the change stamps, nothing read first: a concurrent change of any other
      // attribute (a PATCH, a close) is neither lost nor able to undo this one.
      const stamps = "updatedAt = :at, updatedBy = :by, #version = if_not_exists(#version, :zero) + :one";
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.organization(orgId),
            UpdateExpression: override ? `SET rateLimits = :limits, ${stamps}` : `SET ${stamps} REMOVE rateLimits`,
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeNames: { "#version": "version" },
            ExpressionAttributeValues: { ":at": at, ":by": actor, ":zero": 0, ":one": 1, ...(override ? { ":limits": override } : {}) },
            ReturnValues: "ALL_NEW",
          }),
        );
        return stripOrgId(Attributes)!;
      } catch (error) {
        if (isConditionFailed(error)) throw notFound("Organization", orgId);
        throw error;
      }
    },
  };
}

/** The organization item repeats its id as `orgId` (every tenant item has one); the API shows `id`. */
function stripOrgId(item: Record<string, unknown> | undefined): Organization | undefined {
  return entities.organization.fromItem<Organization>(item);
}
