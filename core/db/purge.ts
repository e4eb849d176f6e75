import { PutCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { batchWriteAll } from "./batch";
import { conflict, notFound } from "../errors";
import { entities } from "./entities";
import { keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

export interface PurgeProgress {
  deleted: number;
}

/**
 * Removes every item of a closed organization: its partition (`T#<orgId>`) and any sub-partition
 * (`T#<orgId>#...`, found by a scan: purging is rare, and correctness beats cost here). Refuses an
 * active organization, so a typo cannot wipe a live tenant. Idempotent: a purge that stopped halfway
 * can simply be run again.
 */
export async function purgeOrganization(
  { client, table }: RepositoryOptions,
  orgId: string,
  onProgress: (progress: PurgeProgress) => void = () => undefined,
): Promise<PurgeProgress> {
  const pk = keys.tenantPk(orgId);
  const org = await client.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :pk AND sk = :sk", ExpressionAttributeValues: { ":pk": pk, ":sk": "ORG" } }));
  const item = org.Items?.[0];
  if (!item) throw notFound("Organization", orgId);
  if (item.status !== "closed") throw conflict(`Organization '${orgId}' is active: close it (DELETE /api/v1/organizations/${orgId}) before purging.`, "organization_active");

  // The tombstone first: the audit consumer sees it and does not audit the deletions that follow.
  await client.send(
    new PutCommand({ TableName: table, Item: { ...keys.purged(orgId), ...entities.purgedOrganization.stamp, orgId, purgedAt: new Date().toISOString() } }),
  );
  const progress: PurgeProgress = { deleted: 0 };
  const remove = async (items: Record<string, unknown>[]) => {
    // The organization item goes last, so an interrupted purge can be found and resumed.
    await batchWriteAll(client, table, items.map((it) => ({ DeleteRequest: { Key: { pk: it.pk, sk: it.sk } } })), (written) => {
      progress.deleted += written;
      onProgress({ ...progress });
    });
  };

  let start: Record<string, unknown> | undefined;
  do {
    const page: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } = await client.send(new ScanCommand({
      TableName: table,
      FilterExpression: "begins_with(pk, :sub)",
      ExpressionAttributeValues: { ":sub": `${pk}#` },
      ProjectionExpression: "pk, sk",
      ExclusiveStartKey: start,
    }));
    await remove(page.Items ?? []);
    start = page.LastEvaluatedKey;
  } while (start);

  do {
    const page: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> } = await client.send(new QueryCommand({
      TableName: table,
      KeyConditionExpression: "pk = :pk",
      ExpressionAttributeValues: { ":pk": pk },
      ProjectionExpression: "pk, sk",
      ExclusiveStartKey: start,
    }));
    await remove((page.Items ?? []).filter((i) => i.sk !== "ORG"));
    start = page.LastEvaluatedKey;
  } while (start);
  await remove([{ pk, sk: "ORG" }]);
  return progress;
}
