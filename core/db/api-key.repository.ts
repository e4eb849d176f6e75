import { GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { notFound } from "../errors";
import type { ApiKeyRecord, ApiKeyStore } from "../tenants/ports";
import { isConditionFailed } from "./client";
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
