import { Stack } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { Construct } from "constructs";
import type { Permission } from "../functions/manifest.types";

/**
 * A route's `permissions` (functions/manifest.types.ts) turned into least-privilege IAM statements.
 *
 * DynamoDB transactions have no IAM actions of their own: TransactGetItems is authorized per item as
 * GetItem, TransactWriteItems per item as PutItem / UpdateItem / DeleteItem / ConditionCheckItem. So
 * `table:read` covers transactional reads and `table:write` transactional writes without naming them.
 */

/** `table:read`: point reads and queries. No Scan: every access pattern is a key lookup or a Query. */
export const TABLE_READ_ACTIONS = ["dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"] as const;

/**
 * `table:write` adds these to the read actions (a writer always reads: conditional updates, lookups
 * before a write). ConditionCheckItem is only usable inside TransactWriteItems, hence a write action.
 */
export const TABLE_WRITE_ACTIONS = [
  "dynamodb:PutItem",
  "dynamodb:UpdateItem",
  "dynamodb:DeleteItem",
  "dynamodb:BatchWriteItem",
  "dynamodb:ConditionCheckItem",
] as const;

/**
 * `table:rate-limits`: the rate limiter's one write (core/db/rate-limit.repository.ts), allowed only on
 * items whose partition key is a rate-limit bucket (`T#<orgId>#RL#<bucket>`, core/db/keys.ts), so a
 * read-only route that is rate-limited still cannot change any tenant data.
 */
export const RATE_LIMIT_ACTIONS = ["dynamodb:UpdateItem"] as const;
export const RATE_LIMIT_LEADING_KEYS = ["T#*#RL#*"] as const;

/** `connections:manage`: post to, look up and close WebSocket connections. */
export const CONNECTION_ACTIONS = ["execute-api:ManageConnections"] as const;

/** The @connections operations the management API exposes, each its own ARN (no method wildcard). */
const CONNECTION_METHODS = ["POST", "GET", "DELETE"] as const;

export interface PermissionTargets {
  /** The table's ARN and its GSI names; reads reach the indexes, writes only the table. */
  table: { arn: string; indexNames: readonly string[] };
  /** The WebSocket API whose connections may be managed. Absent: `connections:manage` is an error. */
  connections?: { apiId: string; stage: string };
  /** The agents' work queue. Absent: `queue:work` is an error. */
  workQueue?: { arn: string };
}

/**
 * `queue:work`: send tasks to the work queue, and shorten a failed one's wait for its retry
 * (functions/lib/work-queue.ts). Receiving and deleting are the event source mapping's, done with the
 * consumer's role by CDK's SqsEventSource.
 */
export const WORK_QUEUE_ACTIONS = ["sqs:SendMessage", "sqs:ChangeMessageVisibility"] as const;

/** An SST stack's stage (a plain CDK stack has none: "dev"). */
export const stageOf = (stack: Stack): string => (stack as unknown as { stage?: string }).stage ?? "dev";

/** The SSM parameters holding the model endpoints' API keys of a stage (`models:keys`). */
export const modelKeyParameters = (stage: string) => ({
  slm: `/agentorg/${stage}/slm-api-key`,
  llm: `/agentorg/${stage}/llm-api-key`,
});

/** The table's ARN plus one ARN per named index (`{table}/index/gsi1`), no `index/*` wildcard. */
export function tableArns(table: PermissionTargets["table"]): string[] {
  return [table.arn, ...table.indexNames.map((name) => `${table.arn}/index/${name}`)];
}

/**
 * `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/{POST|GET|DELETE}/@connections/*`:
 * one stage of one API. The trailing `*` is the connection id, which only exists at run time.
 */
export function connectionArns(scope: Construct, connections: NonNullable<PermissionTargets["connections"]>): string[] {
  const stack = Stack.of(scope);
  return CONNECTION_METHODS.map((method) =>
    stack.formatArn({
      service: "execute-api",
      resource: connections.apiId,
      resourceName: `${connections.stage}/${method}/@connections/*`,
    }),
  );
}

/**
 * The IAM statements for a set of permissions; none for an empty set. Reads are granted on the table
 * and its indexes (Query on gsi1), writes on the table only (items are never written through an index).
 */
export function policyStatements(
  scope: Construct,
  permissions: readonly Permission[],
  targets: PermissionTargets,
): PolicyStatement[] {
  const wanted = new Set(permissions);
  const statements: PolicyStatement[] = [];
  if (wanted.has("table:read") || wanted.has("table:write")) {
    statements.push(new PolicyStatement({ actions: [...TABLE_READ_ACTIONS], resources: tableArns(targets.table) }));
  }
  if (wanted.has("table:write")) {
    statements.push(new PolicyStatement({ actions: [...TABLE_WRITE_ACTIONS], resources: [targets.table.arn] }));
  } else if (wanted.has("table:rate-limits")) {
    // A writer may update any item already; everyone else only the rate-limit partitions.
    statements.push(
      new PolicyStatement({
        actions: [...RATE_LIMIT_ACTIONS],
        resources: [targets.table.arn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [...RATE_LIMIT_LEADING_KEYS] } },
      }),
    );
  }
  if (wanted.has("connections:manage")) {
    if (!targets.connections) {
      throw new Error("A function asks for connections:manage, but no WebSocket API is known to this stack.");
    }
    statements.push(
      new PolicyStatement({ actions: [...CONNECTION_ACTIONS], resources: connectionArns(scope, targets.connections) }),
    );
  }
  if (wanted.has("queue:work")) {
    if (!targets.workQueue) throw new Error("A function asks for queue:work, but no work queue is known to this stack.");
    statements.push(new PolicyStatement({ actions: [...WORK_QUEUE_ACTIONS], resources: [targets.workQueue.arn] }));
  }
  if (wanted.has("models:keys")) {
    // Read (and decrypt, with the account's default SSM key) exactly the two key parameters of this stage.
    const stack = Stack.of(scope);
    const names = Object.values(modelKeyParameters(stageOf(stack)));
    statements.push(
      new PolicyStatement({
        actions: ["ssm:GetParameter"],
        resources: names.map((name) => stack.formatArn({ service: "ssm", resource: "parameter", resourceName: name.replace(/^\//, "") })),
      }),
    );
  }
  return statements;
}
