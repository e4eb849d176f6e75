import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { conflict, notFound } from "../errors";
import type { Organization } from "../tenants/organization.schema";
import type { Actor, OrganizationStore, Page, PageRequest } from "../tenants/ports";
import { decodeCursor, encodeCursor, isConditionFailed } from "./client";
import { toEntity, pageSize } from "./item";
import { keys } from "./keys";

export interface RepositoryOptions {
  client: DynamoDBDocumentClient;
  table: string;
}

export function createOrganizationStore({ client, table }: RepositoryOptions): OrganizationStore {
  const item = (org: Organization, actor: Actor) => ({
    ...keys.organization(org.id),
    ...keys.organizationIndex(org.id),
    entity: "organization",
    orgId: org.id,
    ...org,
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
          ExclusiveStartKey: decodeCursor(cursor, { gsi1pk: keys.organizationsPartition }),
        }),
      );
      const items = (result.Items ?? []).map((i) => stripOrgId(i)!);
      const next = encodeCursor(result.LastEvaluatedKey);
      return next ? { items, cursor: next } : { items };
    },

    async save(org, actor) {
      try {
        await client.send(
          new PutCommand({ TableName: table, Item: item(org, actor), ConditionExpression: "attribute_exists(pk)" }),
        );
      } catch (error) {
        if (isConditionFailed(error)) throw notFound("Organization", org.id);
        throw error;
      }
    },

    async setRateLimits(orgId, override, actor, at) {
      // One attribute and the change stamps, nothing read first: a concurrent change of any other
      // attribute (a PATCH, a close) is neither lost nor able to undo this one.
      const stamps = "updatedAt = :at, updatedBy = :by";
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.organization(orgId),
            UpdateExpression: override ? `SET rateLimits = :limits, ${stamps}` : `SET ${stamps} REMOVE rateLimits`,
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":at": at, ":by": actor, ...(override ? { ":limits": override } : {}) },
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
  const entity = toEntity<Organization & { orgId?: string }>(item);
  if (!entity) return undefined;
  const { orgId: _orgId, ...org } = entity;
  return org;
}
