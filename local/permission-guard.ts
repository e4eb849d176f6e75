import { AsyncLocalStorage } from "node:async_hooks";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { onClientCreated } from "../core/db/client";
import { TABLE_DEFINITION } from "../core/db/table";
import type { Permission } from "../functions/manifest.types";

/**
 * The local runtime's stand-in for the IAM policy of each function: every DynamoDB command a handler
 * sends is checked against the permissions its route declares (functions/manifest.types.ts
 * `runtimePermissions`), mirroring the statements stacks/permissions.ts deploys, and refused with an
 * `AccessDeniedException` as DynamoDB would refuse it. So a route whose permission list is too short
 * fails in `npm test`, not after a deploy.
 *
 * Local only: the guard is a middleware the local platform (local/platform.ts) adds to every
 * DynamoDB client core/db/client.ts creates in this process; nothing under functions/ imports it, so
 * it never reaches a Lambda bundle. Each invocation the local gateways and the stream poller make
 * runs inside `runAs` (AsyncLocalStorage), which is how the middleware knows whose permissions apply.
 *
 * Outside an invocation nothing is checked: that is no deployed function's code but the platform's
 * own setup (creating the table), tools run with the operator's credentials (org:purge), and the
 * tests' own arrange and assert steps, which read and write the table directly on purpose.
 */

/** `table:read`: the DynamoDB actions of stacks/permissions.ts TABLE_READ_ACTIONS (a test keeps them equal). */
export const READ_ACTIONS = ["GetItem", "BatchGetItem", "Query"] as const;
/** `table:write` adds these (TABLE_WRITE_ACTIONS); writes are granted on the table only, never an index. */
export const WRITE_ACTIONS = ["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "ConditionCheckItem"] as const;
/** `table:rate-limits` (without `table:write`): RATE_LIMIT_ACTIONS on RATE_LIMIT_LEADING_KEYS only. */
export const RATE_LIMIT_ACTIONS = ["UpdateItem"] as const;
export const RATE_LIMIT_LEADING_KEYS = ["T#*#RL#*"] as const;

/** Who is running: the function (handler string or consumer name) and its permissions. */
export interface Invocation {
  function: string;
  permissions: readonly Permission[];
}

/** One authorization DynamoDB makes for a command: the action, the index it reads, the partition keys it touches. */
export interface AccessRequest {
  action: string;
  table: string | undefined;
  index?: string;
  leadingKeys: string[];
}

const invocations = new AsyncLocalStorage<Invocation>();

/** Runs `fn` as one invocation of a function with these permissions (the gateways and the poller call it). */
export function runAs<T>(invocation: Invocation, fn: () => T): T {
  return invocations.run(invocation, fn);
}

/** The invocation running now, if any (the bench attributes DynamoDB calls to functions with it). */
export function currentInvocation(): Invocation | undefined {
  return invocations.getStore();
}

/** Refusals so far (test/support/platform.ts fails a file that has any it did not expect). */
const refused: string[] = [];

/** The refusals since the last call, and forgets them. */
export function takeRefusals(): string[] {
  return refused.splice(0);
}

/** The AWS-like error of a refused command. */
export class AccessDeniedException extends Error {
  override readonly name = "AccessDeniedException";
  readonly $fault = "client";
  readonly $metadata = { httpStatusCode: 400 };
}

/** The authorizations a command needs, as IAM evaluates DynamoDB requests (transactions per item). */
export function accessRequests(commandName: string, input: Record<string, any>): AccessRequest[] {
  const action = commandName.replace(/Command$/, "");
  const pkOf = (key: Record<string, unknown> | undefined): string[] => {
    const pk = key?.[TABLE_DEFINITION.partitionKey];
    const value = typeof pk === "string" ? pk : (pk as { S?: unknown } | undefined)?.S;
    return typeof value === "string" ? [value] : [];
  };
  switch (action) {
    case "GetItem":
    case "DeleteItem":
    case "UpdateItem":
      return [{ action, table: input.TableName, leadingKeys: pkOf(input.Key) }];
    case "PutItem":
      return [{ action, table: input.TableName, leadingKeys: pkOf(input.Item) }];
    case "Query":
    case "Scan":
      return [{ action, table: input.TableName, ...(input.IndexName ? { index: input.IndexName } : {}), leadingKeys: [] }];
    case "BatchGetItem":
    case "BatchWriteItem":
      return Object.keys(input.RequestItems ?? {}).map((table) => ({ action, table, leadingKeys: [] }));
    case "TransactGetItems":
      // Authorized per item as GetItem (stacks/permissions.ts).
      return (input.TransactItems ?? []).map((item: { Get?: { TableName?: string; Key?: Record<string, unknown> } }) => ({
        action: "GetItem",
        table: item.Get?.TableName,
        leadingKeys: pkOf(item.Get?.Key),
      }));
    case "TransactWriteItems":
      // Authorized per item as PutItem / UpdateItem / DeleteItem / ConditionCheckItem.
      return (input.TransactItems ?? []).map((item: Record<string, { TableName?: string; Key?: Record<string, unknown>; Item?: Record<string, unknown> }>) => {
        const [kind, part] = Object.entries(item).find(([, value]) => value !== undefined) ?? ["", undefined];
        const itemAction = { Put: "PutItem", Update: "UpdateItem", Delete: "DeleteItem", ConditionCheck: "ConditionCheckItem" }[kind] ?? kind;
        return { action: itemAction, table: part?.TableName, leadingKeys: pkOf(part?.Key ?? part?.Item) };
      });
    default:
      return [{ action, table: input.TableName, leadingKeys: [] }];
  }
}

const glob = (pattern: string) => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
const RATE_LIMIT_KEYS = RATE_LIMIT_LEADING_KEYS.map(glob);
const INDEXES = new Set<string>(Object.keys(TABLE_DEFINITION.globalIndexes));

/** Whether permissions allow one request on `table` (the function's table; the guard knows no other). */
export function isAllowed(permissions: readonly Permission[], request: AccessRequest, table: string): boolean {
  const has = new Set(permissions);
  if (request.table !== table) return false;
  if (request.index !== undefined && !INDEXES.has(request.index)) return false;
  const reader = has.has("table:read") || has.has("table:write");
  if (reader && (READ_ACTIONS as readonly string[]).includes(request.action)) return true;
  // Writes are granted on the table's ARN, not on its indexes.
  if (request.index !== undefined) return false;
  if (has.has("table:write")) return (WRITE_ACTIONS as readonly string[]).includes(request.action);
  if (has.has("table:rate-limits") && (RATE_LIMIT_ACTIONS as readonly string[]).includes(request.action)) {
    // IAM's ForAllValues: every leading key must match (and a request without one names none).
    return request.leadingKeys.length > 0 && request.leadingKeys.every((key) => RATE_LIMIT_KEYS.some((p) => p.test(key)));
  }
  return false;
}

/**
 * Adds the guard to a DynamoDB client (the document client shares its middleware stack). It runs
 * first (initialize step), before the SDK's retries, so a refusal is final as IAM's would be.
 */
export function guardClient(client: DynamoDBClient, table: () => string | undefined): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const invocation = invocations.getStore();
      const tableName = table();
      if (invocation && tableName) {
        const commandName = String(context.commandName ?? "");
        for (const request of accessRequests(commandName, args.input as Record<string, any>)) {
          if (isAllowed(invocation.permissions, request, tableName)) continue;
          const resource = `table/${request.table ?? "?"}${request.index ? `/index/${request.index}` : ""}`;
          const message =
            `User: local:function/${invocation.function} is not authorized to perform: dynamodb:${request.action} on resource: ${resource}` +
            `${request.leadingKeys.length ? ` (pk ${request.leadingKeys.join(", ")})` : ""}` +
            ` because its declared permissions [${invocation.permissions.join(", ")}] do not allow it (local permission guard; fix the route's permissions in functions/manifest)`;
          refused.push(message);
          console.error(JSON.stringify({ level: "ERROR", message: "DynamoDB command refused by the local permission guard", detail: message }));
          throw new AccessDeniedException(message);
        }
      }
      return next(args);
    },
    { step: "initialize", name: "agentorgLocalPermissionGuard", override: true },
  );
}

let installed = false;

/**
 * Guards every DynamoDB client core/db/client.ts creates from now on in this process, for the
 * function table named by TABLE_NAME (as a deployed function's environment names it). Once per process.
 */
export function installPermissionGuard(): void {
  if (installed) return;
  installed = true;
  onClientCreated((client) => guardClient(client, () => process.env.TABLE_NAME));
}
