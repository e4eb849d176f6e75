import { describe, expect, it } from "vitest";
import { RATE_LIMIT_ACTIONS as IAM_RATE_LIMIT_ACTIONS, RATE_LIMIT_LEADING_KEYS as IAM_RATE_LIMIT_KEYS, TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS } from "../../../stacks/permissions";
import { keys } from "../../../core/db/keys";
import { accessRequests, isAllowed, RATE_LIMIT_ACTIONS, RATE_LIMIT_LEADING_KEYS, READ_ACTIONS, WRITE_ACTIONS } from "../../../local/permission-guard";

/*
 * The local permission guard's rules (local/permission-guard.ts) mirror the IAM statements the stacks
 * deploy (stacks/permissions.ts); the integration test test/integration/permission-guard.test.ts sees
 * them refuse a real request.
 */

const table = "agentorg-test";
const ask = (commandName: string, input: Record<string, unknown>) => accessRequests(commandName, { TableName: table, ...input });
const allowed = (permissions: Parameters<typeof isAllowed>[0], commandName: string, input: Record<string, unknown>) =>
  ask(commandName, input).every((request) => isAllowed(permissions, request, table));

describe("local permission guard rules", () => {
  it("grant what stacks/permissions.ts grants", () => {
    expect(READ_ACTIONS.map((a) => `dynamodb:${a}`)).toEqual([...TABLE_READ_ACTIONS]);
    expect(WRITE_ACTIONS.map((a) => `dynamodb:${a}`)).toEqual([...TABLE_WRITE_ACTIONS]);
    expect(RATE_LIMIT_ACTIONS.map((a) => `dynamodb:${a}`)).toEqual([...IAM_RATE_LIMIT_ACTIONS]);
    expect([...RATE_LIMIT_LEADING_KEYS]).toEqual([...IAM_RATE_LIMIT_KEYS]);
  });

  it("let table:read read the table and its indexes, and nothing more", () => {
    expect(allowed(["table:read"], "GetItemCommand", { Key: keys.ticket("o", "t") })).toBe(true);
    expect(allowed(["table:read"], "QueryCommand", { IndexName: "gsi1" })).toBe(true);
    expect(allowed(["table:read"], "TransactGetItemsCommand", { TransactItems: [{ Get: { TableName: table, Key: keys.ticket("o", "t") } }] })).toBe(true);
    expect(allowed(["table:read"], "QueryCommand", { IndexName: "gsi9" })).toBe(false);
    expect(allowed(["table:read"], "ScanCommand", {})).toBe(false);
    expect(allowed(["table:read"], "PutItemCommand", { Item: keys.ticket("o", "t") })).toBe(false);
  });

  it("check each item of a transaction as its own action (ConditionCheck is a write)", () => {
    const transaction = (item: Record<string, unknown>) => ({ TransactItems: [{ ConditionCheck: { TableName: table, Key: keys.hierarchy("o") } }, item] });

    expect(allowed(["table:read"], "TransactWriteItemsCommand", transaction({ Put: { TableName: table, Item: keys.agent("o", "a") } }))).toBe(false);
    expect(allowed(["table:write"], "TransactWriteItemsCommand", transaction({ Delete: { TableName: table, Key: keys.agent("o", "a") } }))).toBe(true);
    expect(ask("TransactWriteItemsCommand", transaction({ Update: { TableName: table, Key: keys.usage("o", "2026-03") } })).map((r) => r.action)).toEqual([
      "ConditionCheckItem",
      "UpdateItem",
    ]);
  });

  it("let table:rate-limits update rate-limit partitions only", () => {
    const bucket = keys.rateWindow("org_1", "key#k1");
    const marshalled = { pk: { S: bucket.pk }, sk: { S: bucket.sk } };

    expect(allowed(["table:rate-limits"], "UpdateItemCommand", { Key: bucket })).toBe(true);
    expect(allowed(["table:rate-limits"], "UpdateItemCommand", { Key: marshalled })).toBe(true);
    expect(allowed(["table:rate-limits"], "UpdateItemCommand", { Key: keys.usage("org_1", "2026-03") })).toBe(false);
    expect(allowed(["table:rate-limits"], "PutItemCommand", { Item: bucket })).toBe(false);
    expect(allowed(["table:rate-limits"], "GetItemCommand", { Key: bucket })).toBe(false);
  });

  it("refuse another table and writes through an index", () => {
    expect(isAllowed(["table:write"], { action: "GetItem", table: "other", leadingKeys: [] }, table)).toBe(false);
    expect(isAllowed(["table:write"], { action: "UpdateItem", table, index: "gsi1", leadingKeys: [] }, table)).toBe(false);
  });
});
