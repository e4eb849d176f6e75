import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { isConditionFailed } from "./client";
import type { Connection, ConnectionStore } from "../realtime/ports";
import { queryAll, toEntity } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

/** API Gateway closes a WebSocket connection after 2 hours; keep the item a little longer, then expire. */
const TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

export function createConnectionStore({ client, table }: RepositoryOptions): ConnectionStore {
  const find = async (connectionId: string) => {
    const { Items } = await client.send(
      new QueryCommand({
        TableName: table,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :p AND gsi1sk = :s",
        ExpressionAttributeValues: {
          ":p": keys.connectionIndex(connectionId).gsi1pk,
          ":s": keys.connectionIndex(connectionId).gsi1sk,
        },
      }),
    );
    return toEntity<Connection>(Items?.[0]);
  };

  return {
    async put(connection) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: {
            ...keys.connection(connection.orgId, connection.connectionId),
            ...keys.connectionIndex(connection.connectionId),
            ...entities.connection.stamp,
            ...connection,
            ttl: Math.floor(Date.parse(connection.connectedAt) / 1000) + TTL_SECONDS,
          },
        }),
      );
    },

    find,

    async remove(connectionId, orgId) {
      const owner = orgId ?? (await find(connectionId))?.orgId;
      if (!owner) return;
      await client.send(new DeleteCommand({ TableName: table, Key: keys.connection(owner, connectionId) }));
    },

    async setTopics(connectionId, orgId, topics) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.connection(orgId, connectionId),
            UpdateExpression: "SET topics = :topics",
            // Only a connection that still exists: a revoked (removed) one must not come back.
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeValues: { ":topics": topics },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    async listByOrg(orgId) {
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.connectionPrefix)).map((item) => toEntity<Connection>(item)!);
    },
  };
}
