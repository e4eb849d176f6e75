import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

/**
 * The cheapest proof that the table answers: an eventually consistent read of one key that never
 * holds an item (half a read unit). Aborted by `signal`, so a hanging database cannot hold /health.
 */
export function createTablePing({ client, table }: RepositoryOptions) {
  return async (signal?: AbortSignal): Promise<void> => {
    await client.send(new GetCommand({ TableName: table, Key: keys.healthProbe, ProjectionExpression: "pk" }), signal ? { abortSignal: signal } : {});
  };
}
