import { DeleteCommand, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { WsTokenRecord, WsTokenStore } from "../realtime/ws-tokens";
import { isConditionFailed } from "./client";
import { toEntity } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

export function createWsTokenStore({ client, table }: RepositoryOptions): WsTokenStore {
  return {
    async put(token) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.wsToken(token.orgId, token.id), ...entities.wsToken.stamp, ...token, ttl: Math.ceil(Date.parse(token.expiresAt) / 1000) + 60 },
        }),
      );
    },
    async get(orgId, id) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.wsToken(orgId, id), ConsistentRead: true }));
      return toEntity<WsTokenRecord>(Item);
    },
    async consume(orgId, id) {
      try {
        await client.send(new DeleteCommand({ TableName: table, Key: keys.wsToken(orgId, id), ConditionExpression: "attribute_exists(pk)" }));
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },
  };
}
