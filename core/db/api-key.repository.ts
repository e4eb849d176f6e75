import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { conflict, notFound } from "../errors";
import type { ApiKeyRecord, ApiKeyStore } from "../tenants/ports";
import { conditionFailedItem, isConditionFailed } from "./client";
import { queryAll, toEntity } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

export function createApiKeyStore({ client, table }: RepositoryOptions): ApiKeyStore {
  return {
    async create(key, actor) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.apiKey(key.orgId, key.id), ...entities.apiKey.stamp, ...key, updatedAt: key.createdAt, updatedBy: actor },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    },

    async get(orgId, keyId) {
      const { Item } = await client.send(
        new GetCommand({ TableName: table, Key: keys.apiKey(orgId, keyId), ConsistentRead: true }),
      );
      return toEntity<ApiKeyRecord>(Item);
    },

    async list(orgId) {
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.apiKeyPrefix)).map((item) => toEntity<ApiKeyRecord>(item)!);
    },

    async spend(orgId, period) {
      const num = (v: unknown) => (typeof v === "number" ? v : 0);
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.keyUsagePrefix(period))).map((item) => ({
        keyId: String(item.keyId),
        costMicroUsd: num(item.costMicroUsd),
        committedMicroUsd: num(item.committedMicroUsd),
        queries: num(item.queries),
      }));
    },

    async update(orgId, keyId, changes, at, actor) {
      const set = ["updatedAt = :at", "updatedBy = :actor"];
      const remove: string[] = [];
      const values: Record<string, unknown> = { ":at": at, ":actor": actor };
      const names: Record<string, string> = {};
      for (const [field, value] of Object.entries(changes) as [string, unknown][]) {
        if (value === undefined) continue;
        names[`#${field}`] = field;
        if (value === null) remove.push(`#${field}`);
        else {
          set.push(`#${field} = :${field}`);
          values[`:${field}`] = value;
        }
      }
      try {
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.apiKey(orgId, keyId),
            UpdateExpression: `SET ${set.join(", ")}${remove.length ? ` REMOVE ${remove.join(", ")}` : ""}`,
            // A revoked key stays as it was revoked: its record is the evidence of what it could do.
            ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(revokedAt)",
            ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
            ExpressionAttributeValues: values,
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
          }),
        );
        return toEntity<ApiKeyRecord>(Attributes)!;
      } catch (error) {
        if (isConditionFailed(error)) {
          const old = conditionFailedItem(error);
          if (old && old.revokedAt) throw conflict("The API key is revoked: it can no longer be changed.", "api_key_revoked");
          throw notFound("API key", keyId);
        }
        throw error;
      }
    },

    async revoke(orgId, keyId, at, actor) {
      try {
        // if_not_exists keeps the first revocation time: revoking twice is harmless and changes nothing.
        const { Attributes } = await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.apiKey(orgId, keyId),
            UpdateExpression: "SET revokedAt = if_not_exists(revokedAt, :at), updatedAt = :at, updatedBy = :actor",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":at": at, ":actor": actor },
            ReturnValues: "ALL_NEW",
          }),
        );
        return toEntity<ApiKeyRecord>(Attributes)!;
      } catch (error) {
        if (isConditionFailed(error)) throw notFound("API key", keyId);
        throw error;
      }
    },
  };
}
