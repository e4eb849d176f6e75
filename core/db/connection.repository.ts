import { DeleteCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { Connection, ConnectionStore } from "../realtime/ports";
import { queryAll, toEntity } from "./item";
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
            entity: "connection",
            ...connection,
            ttl: Math.floor(Date.parse(connection.connectedAt) / 1000) + TTL_SECONDS,
          },
        }),
      );
    },

    find,

    async remove(connectionId) {
      const connection = await find(connectionId);
      if (!connection) return;
      await client.send(
        new DeleteCommand({ TableName: table, Key: keys.connection(connection.orgId, connectionId) }),
      );
    },

    async listByOrg(orgId) {
      return (await queryAll(client, table, keys.tenantPk(orgId), keys.connectionPrefix)).map((item) => toEntity<Connection>(item)!);
    },
  };
}
