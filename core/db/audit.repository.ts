import { gunzipSync, gzipSync } from "node:zlib";
import {
  BatchWriteCommand,
  type BatchWriteCommandOutput,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import type { AppendCommit, AuditKeyRegistry, AuditStore, LostStreamRange, PendingRecord, StreamLossLog } from "../audit/ports";
import { canonicalJson } from "../audit/entry";
import { invalidInput } from "../errors";
import { BATCH_WRITE_LIMIT, batchGetAll } from "./batch";
import { isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize, queryAll } from "./item";
import { entities } from "./entities";
import { AUDIT_SEQ_DIGITS, keys } from "./keys";
import type { RepositoryOptions } from "./organization.repository";

/**
 * Storage of the audit log (layout and reasons: docs/audit-operations.md).
 *
 * - entry `AUDIT#<seq>`: the entry's canonical JSON in `json` (the exact text that was hashed, so no
 *   marshalling can change a number or a nesting level), gzipped into `jsonGz` when large or when
 *   that saves a write unit (`storedJson`);
 * - head `AUDITHEAD`: seq and hash of the last entry, and the last checkpoint's seq and time;
 * - checkpoint `AUDITCP#<seq>`: the signed checkpoint's canonical JSON;
 * - source marker `AUDITSRC#<eventId>`: "this stream record has an entry", expiring after a week
 *   (streams keep records for 24 h, so no redelivery can come later);
 * - pending marker `AUDITPEND#<eventId>`: "this stream record failed to be appended": `verify` counts
 *   it as a gap unless the record's source marker exists. It expires a week after its last failure,
 *   and a source marker is written after that failure, so a marker can never outlive the source
 *   marker of its record and make a recorded change look pending again.
 */

/** An entry's JSON above this size is always stored gzipped: an item holds at most 400 KB. */
const GZIP_FROM_BYTES = 64 * 1024;
/**
 * Writes are billed per started KB of the item (twice in the append's transaction), so an entry is
 * also stored gzipped whenever that makes its item a KB smaller: a cost record's entry (about 1.2 KB
 * of JSON, 650 bytes gzipped) then costs 2 write units instead of 4. Below this size no compression
 * can save a KB. Bytes of the item's other attributes (keys, type, orgId), an upper bound.
 */
const GZIP_CONSIDER_FROM_BYTES = 800;
const ITEM_OVERHEAD_BYTES = 160;
/** Longer than any redelivery: a stream keeps its records for 24 hours. */
export const SOURCE_MARKER_TTL_SECONDS = 7 * 24 * 60 * 60;
const SEQ_MAX = "9".repeat(AUDIT_SEQ_DIGITS);
/** Pending markers written at once (each is a conditional-free UpdateItem). */
const MARK_CONCURRENCY = 8;

/**
 * A test seam for the faults real DynamoDB cannot be made to produce on demand: a function instance
 * that dies between building an append and committing it, or right after committing it, and a
 * competing writer that commits in between. Production code never sets it.
 */
export interface AuditStoreFaults {
  beforeCommit?(append: AppendCommit): Promise<void> | void;
  afterCommit?(append: AppendCommit): Promise<void> | void;
}

export function createAuditStore({ client, table, faults, cursors = processCursors }: RepositoryOptions & { faults?: AuditStoreFaults }): AuditStore {
  async function* pages(orgId: string, prefix: string, toSk?: string): AsyncIterable<unknown[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          ...(toSk
            ? {
                KeyConditionExpression: "pk = :pk AND sk BETWEEN :prefix AND :to",
                ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": prefix, ":to": toSk },
              }
            : {
                KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": prefix },
              }),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      yield (page.Items ?? []).map(readRecord);
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** A cursor we issued for this tenant and this kind of item; anything else is a 400, not a DynamoDB error. */
  function startKey(orgId: string, cursor: string | undefined, prefix: string, scope: string) {
    const key = cursors.decode(cursor, scope, { pk: keys.tenantPk(orgId) });
    if (key && !(typeof key.sk === "string" && key.sk.startsWith(prefix))) {
      throw invalidInput("The cursor is not valid.", [{ field: "cursor", message: "not a cursor issued by this API" }], "invalid_cursor");
    }
    return key;
  }

  return {
    async head(orgId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.auditHead(orgId), ConsistentRead: true }));
      if (!Item) return null;
      return {
        seq: Item.seq as number,
        hash: Item.hash as string,
        lastCheckpointSeq: (Item.lastCheckpointSeq as number | undefined) ?? 0,
        lastCheckpointTime: (Item.lastCheckpointTime as string | undefined) ?? null,
      };
    },

    async recordedEvents(orgId, eventIds) {
      const unique = [...new Set(eventIds)];
      const items = await batchGetAll(client, table, unique.map((id) => keys.auditSource(orgId, id)), { consistentRead: true, projection: "sk" });
      return new Set(items.map((item) => (item.sk as string).slice("AUDITSRC#".length)));
    },

    async commit(append) {
      const { orgId, expected, entries, head, checkpoint } = append;
      const now = new Date();
      const ttl = Math.floor(now.getTime() / 1000) + SOURCE_MARKER_TTL_SECONDS;
      // Every item is conditional on not existing: the head condition orders appends, the marker
      // conditions make a record that another writer just recorded cancel this append.
      const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]["TransactItems"]> = [];
      for (const entry of entries) {
        items.push({
          Put: {
            TableName: table,
            Item: { ...keys.auditEntry(orgId, entry.seq), ...entities.auditEntry.stamp, orgId, ...storedJson(canonicalJson(entry)) },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        });
        items.push({
          Put: {
            TableName: table,
            Item: { ...keys.auditSource(orgId, entry.source.eventId), ...entities.auditSource.stamp, orgId, seq: entry.seq, ttl },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        });
      }
      if (checkpoint) {
        items.push({
          Put: {
            TableName: table,
            Item: { ...keys.auditCheckpoint(orgId, checkpoint.seq), ...entities.auditCheckpoint.stamp, orgId, json: canonicalJson(checkpoint) },
            ConditionExpression: "attribute_not_exists(pk)",
          },
        });
      }
      items.push({
        Put: {
          TableName: table,
          Item: { ...keys.auditHead(orgId), ...entities.auditHead.stamp, orgId, ...head, updatedAt: now.toISOString() },
          ...(expected
            ? {
                ConditionExpression: "#seq = :seq AND #hash = :hash",
                ExpressionAttributeNames: { "#seq": "seq", "#hash": "hash" },
                ExpressionAttributeValues: { ":seq": expected.seq, ":hash": expected.hash },
              }
            : { ConditionExpression: "attribute_not_exists(pk)" }),
        },
      });

      await faults?.beforeCommit?.(append);
      try {
        await client.send(new TransactWriteCommand({ TransactItems: items }));
      } catch (error) {
        if (isLostRace(error)) return "conflict";
        throw error;
      }
      await faults?.afterCommit?.(append);
      return "committed";
    },

    async listEntries(orgId, { limit, cursor, fromSeq }) {
      const prefix = keys.auditEntryPrefix;
      const scope = `audit-entries:${orgId}:${fromSeq ?? "newest"}`;
      const result = await client.send(
        new QueryCommand({
          TableName: table,
          ...(fromSeq
            ? {
                KeyConditionExpression: "pk = :pk AND sk BETWEEN :from AND :to",
                ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":from": keys.auditEntry(orgId, fromSeq).sk, ":to": `${prefix}${SEQ_MAX}` },
              }
            : {
                KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
                ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": prefix },
              }),
          ScanIndexForward: Boolean(fromSeq),
          Limit: pageSize(limit),
          ExclusiveStartKey: startKey(orgId, cursor, prefix, scope),
        }),
      );
      const next = cursors.encode(result.LastEvaluatedKey, scope);
      const items = (result.Items ?? []).map(readRecord);
      return next ? { items, cursor: next } : { items };
    },

    async listCheckpoints(orgId, { limit, cursor }) {
      const prefix = keys.auditCheckpointPrefix;
      const scope = `audit-checkpoints:${orgId}`;
      const result = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": prefix },
          ScanIndexForward: false,
          Limit: pageSize(limit),
          ExclusiveStartKey: startKey(orgId, cursor, prefix, scope),
        }),
      );
      const next = cursors.encode(result.LastEvaluatedKey, scope);
      const items = (result.Items ?? []).map(readRecord);
      return next ? { items, cursor: next } : { items };
    },

    // Seqs are zero-padded in the key, so "up to seq n" is a key range ending at entry n's key.
    async markPending(orgId, records, error) {
      const now = new Date();
      const ttl = Math.floor(now.getTime() / 1000) + SOURCE_MARKER_TTL_SECONDS;
      const queue = [...records];
      const worker = async () => {
        for (let record = queue.shift(); record; record = queue.shift()) {
          await client.send(
            new UpdateCommand({
              TableName: table,
              Key: keys.auditPending(orgId, record.eventId),
              // `since` survives later failures; the rest is refreshed by each of them.
              UpdateExpression: "SET entity = :entity, orgId = :orgId, eventId = :eventId, sequenceNumber = :seq, since = if_not_exists(since, :now), lastFailedAt = :now, lastError = :error, #ttl = :ttl ADD failures :one",
              ExpressionAttributeNames: { "#ttl": "ttl" },
              ExpressionAttributeValues: {
                ":entity": entities.auditPending.name,
                ":orgId": orgId,
                ":eventId": record.eventId,
                ":seq": record.sequenceNumber,
                ":now": now.toISOString(),
                ":error": error.slice(0, 500),
                ":ttl": ttl,
                ":one": 1,
              },
            }),
          );
        }
      };
      await Promise.all(Array.from({ length: Math.min(MARK_CONCURRENCY, queue.length) }, worker));
    },

    async clearPending(orgId, eventIds) {
      const unique = [...new Set(eventIds)];
      for (let i = 0; i < unique.length; i += BATCH_WRITE_LIMIT) {
        let requests: NonNullable<BatchWriteCommandOutput["UnprocessedItems"]>[string] | undefined = unique
          .slice(i, i + BATCH_WRITE_LIMIT)
          .map((id) => ({ DeleteRequest: { Key: keys.auditPending(orgId, id) } }));
        for (let round = 0; requests?.length && round < 5; round += 1) {
          const result: BatchWriteCommandOutput = await client.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = result.UnprocessedItems?.[table];
        }
      }
    },

    async pendingMarkers(orgId, limit) {
      const now = Math.floor(Date.now() / 1000);
      const markers: PendingRecord[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.auditPendingPrefix },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          // TTL deletes lazily: an expired marker that is still there no longer counts.
          if (typeof item.ttl === "number" && item.ttl <= now) continue;
          if (markers.length === limit) return { markers, more: true };
          markers.push({
            eventId: String(item.eventId),
            sequenceNumber: String(item.sequenceNumber),
            ...(typeof item.since === "string" ? { since: item.since } : {}),
            ...(typeof item.lastError === "string" ? { lastError: item.lastError } : {}),
          });
        }
        start = page.LastEvaluatedKey;
      } while (start);
      return { markers, more: false };
    },

    entryPages: (orgId, range) =>
      pages(orgId, keys.auditEntryPrefix, range?.toSeq !== undefined ? keys.auditEntry(orgId, range.toSeq).sk : undefined),

    async lastEntrySeq(orgId) {
      const { Items } = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.auditEntryPrefix },
          ScanIndexForward: false,
          Limit: 1,
          ConsistentRead: true,
          ProjectionExpression: "sk",
        }),
      );
      const sk = Items?.[0]?.sk;
      if (typeof sk !== "string") return null;
      const seq = Number(sk.slice(keys.auditEntryPrefix.length));
      return Number.isSafeInteger(seq) ? seq : null;
    },
    checkpointPages: (orgId) => pages(orgId, keys.auditCheckpointPrefix),

    async isPurged(orgId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.purged(orgId), ConsistentRead: true }));
      return Item !== undefined;
    },
  };
}

/** The registry of checkpoint keys' public halves: `P#AUDIT` / `KEY#<keyId>`. */
export function createAuditKeyRegistry({ client, table }: RepositoryOptions): AuditKeyRegistry {
  return {
    async register(key) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...keys.auditKey(key.keyId), ...entities.auditKey.stamp, algorithm: "Ed25519", ...key },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (error) {
        // Registered before (by this or another function instance): the first registration stands.
        if (!isConditionFailed(error)) throw error;
      }
    },

    async list() {
      const items = await queryAll(client, table, keys.auditKeysPartition, keys.auditKeyPrefix);
      return items.map((item) => ({ keyId: String(item.keyId), publicKey: String(item.publicKey), registeredAt: String(item.registeredAt) }));
    },
  };
}

/** Lost stream ranges: platform items `P#STREAMLOSS` / `LOSS#<consumer>#<shard>#<first sequence number>`. */
export function createStreamLossLog({ client, table }: RepositoryOptions): StreamLossLog {
  return {
    async record(range) {
      try {
        await client.send(
          new PutCommand({
            TableName: table,
            Item: { ...keys.streamLoss(range.consumer, range.shardId, range.fromSequenceNumber), ...entities.streamLoss.stamp, ...range },
            ConditionExpression: "attribute_not_exists(pk)",
          }),
        );
      } catch (error) {
        // Recorded before (a redrive that died before deleting its message): the first record stands.
        if (!isConditionFailed(error)) throw error;
      }
    },

    async list(consumer) {
      const items = await queryAll(client, table, keys.streamLossPartition, keys.streamLossPrefix(consumer));
      return items.map((item): LostStreamRange => ({
        consumer: String(item.consumer),
        shardId: String(item.shardId),
        fromSequenceNumber: String(item.fromSequenceNumber),
        toSequenceNumber: String(item.toSequenceNumber),
        firstRecordAt: typeof item.firstRecordAt === "string" ? item.firstRecordAt : null,
        lastRecordAt: typeof item.lastRecordAt === "string" ? item.lastRecordAt : null,
        recordedAt: String(item.recordedAt),
        reason: String(item.reason),
      }));
    },
  };
}

/**
 * `json` as is, or gzipped: when large (compression keeps big summaries under the item size limit)
 * or when that makes the item a write unit (KB) cheaper. Either way the text is the one that was
 * hashed, byte for byte, so reading and exporting are unchanged.
 */
export function storedJson(json: string): { json: string } | { jsonGz: Uint8Array } {
  const bytes = Buffer.byteLength(json, "utf8");
  if (bytes < GZIP_CONSIDER_FROM_BYTES) return { json };
  const gzipped = gzipSync(json);
  const kb = (n: number) => Math.ceil((n + ITEM_OVERHEAD_BYTES) / 1024);
  return bytes >= GZIP_FROM_BYTES || kb(gzipped.length) < kb(bytes) ? { jsonGz: gzipped } : { json };
}

/**
 * A stored entry or checkpoint, parsed. What cannot be read is returned as the raw text (or null), so
 * that a verifier reports it as malformed instead of the read failing.
 */
function readRecord(item: Record<string, unknown>): unknown {
  let text: unknown = item.json;
  if (item.jsonGz instanceof Uint8Array) {
    try {
      text = gunzipSync(item.jsonGz).toString("utf8");
    } catch {
      return null;
    }
  }
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A transaction cancelled because a condition failed (the head moved, a record was recorded) or
 * because another transaction held one of the items: both mean "re-read and build again".
 */
function isLostRace(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "TransactionConflictException") return true;
  if (error.name !== "TransactionCanceledException") return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((r) => r.Code === "ConditionalCheckFailed" || r.Code === "TransactionConflict");
}
