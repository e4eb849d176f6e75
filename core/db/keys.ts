/**
 * Every key shape of the table, in one place. No other module builds a key.
 *
 * Tenant items: `pk` starts with `T#<orgId>`, which makes isolation checkable (and enforceable later
 * with an IAM `dynamodb:LeadingKeys` condition). Items that belong to no tenant are platform items
 * (`P#...`).
 */
export interface Key {
  pk: string;
  sk: string;
}

const tenant = (orgId: string) => `T#${orgId}`;

const USAGE_SHARDS = 8;
/** A stable shard of an id (FNV-1a), for write sharding of index partitions. */
function shardOf(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % USAGE_SHARDS;
}

export const keys = {
  tenantPk: tenant,

  /** The organization itself. Listed for the operator through gsi1 (`ORGS`, sorted by id = creation). */
  organization: (orgId: string): Key => ({ pk: tenant(orgId), sk: "ORG" }),
  organizationIndex: (orgId: string) => ({ gsi1pk: "ORGS", gsi1sk: orgId }),
  organizationsPartition: "ORGS",

  /** An API key record: looked up by (orgId, keyId), both parsed from the presented key. */
  apiKey: (orgId: string, keyId: string): Key => ({ pk: tenant(orgId), sk: `KEY#${keyId}` }),
  apiKeyPrefix: "KEY#",

  /** Monthly usage counters (queries, tokens, cost, tickets) of one period `YYYY-MM`. */
  usage: (orgId: string, period: string): Key => ({ pk: tenant(orgId), sk: `USAGE#${period}` }),

  /**
   * Monthly usage is also listed per period for the operator's global stats. The index partition is
   * sharded by organization so that all tenants' metering writes do not land on one hot partition.
   */
  usageIndex: (orgId: string, period: string) => ({ gsi1pk: `USAGE#${period}#${shardOf(orgId)}`, gsi1sk: orgId }),
  usageIndexPartitions: (period: string) => Array.from({ length: USAGE_SHARDS }, (_, i) => `USAGE#${period}#${i}`),
  usageDay: (orgId: string, day: string): Key => ({ pk: tenant(orgId), sk: `USAGEDAY#${day}` }),
  usageDayPrefix: "USAGEDAY#",

  /** A query's routing decision and cost record, newest last by id (ULID). */
  usageRecord: (orgId: string, id: string): Key => ({ pk: tenant(orgId), sk: `REC#${id}` }),
  usageRecordPrefix: "REC#",

  /** Routing settings of an organization (override, calibration). */
  routingSettings: (orgId: string): Key => ({ pk: tenant(orgId), sk: "SETTINGS#routing" }),

  /** Quota counters that are not per period (agents alive). */
  counter: (orgId: string, name: string): Key => ({ pk: tenant(orgId), sk: `COUNTER#${name}` }),

  /**
   * A WebSocket connection of a tenant. `$disconnect` and route events only carry the connection id,
   * hence the gsi1 lookup by id.
   */
  connection: (orgId: string, connectionId: string): Key => ({ pk: tenant(orgId), sk: `CONN#${connectionId}` }),
  connectionIndex: (connectionId: string) => ({ gsi1pk: `CONN#${connectionId}`, gsi1sk: "CONN" }),
  connectionPrefix: "CONN#",
} as const;
