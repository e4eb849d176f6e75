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
