import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { purgeOrganization } from "../../core/db/purge";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";

let platform: Platform;
let client: DynamoDBDocumentClient;
beforeAll(async () => {
  platform = await startTestPlatform();
  client = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  await platform?.stop();
});

const itemsOf = async (orgId: string) =>
  (await client.send(new QueryCommand({ TableName: platform.tableName, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `T#${orgId}` } }))).Items ?? [];

describe("purging a closed organization", () => {
  it("refuses an active organization", async () => {
    const { org } = await createTenant(platform);

    await expect(purgeOrganization({ client, table: platform.tableName }, org.id)).rejects.toMatchObject({ code: "organization_active" });
    expect((await itemsOf(org.id)).length).toBeGreaterThan(0);
  });

  it("removes every item of a closed organization and nothing of another", async () => {
    const doomed = await createTenant(platform);
    const other = await createTenant(platform);
    for (let i = 0; i < 30; i++) {
      await call(platform, `/organizations/${doomed.org.id}/api-keys`, { method: "POST", key: doomed.key, body: { name: `k${i}` } });
    }
    await call(platform, `/organizations/${doomed.org.id}`, { method: "DELETE", key: platform.operatorKey });
    await platform.poller.drained();
    const before = await itemsOf(other.org.id);

    const result = await purgeOrganization({ client, table: platform.tableName }, doomed.org.id);
    // The stream consumer sees the deletions; the tombstone keeps it from auditing them.
    await platform.poller.drained();

    expect(result.deleted).toBeGreaterThanOrEqual(32);
    expect(await itemsOf(doomed.org.id)).toEqual([]);
    expect(await itemsOf(other.org.id)).toEqual(before);
    const read = await call(platform, `/organizations/${doomed.org.id}`, { key: platform.operatorKey });
    expect(read.status).toBe(404);
  });
});
