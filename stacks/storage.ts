import { BillingMode } from "aws-cdk-lib/aws-dynamodb";
import { type StackContext, Table } from "sst/constructs";
import { TABLE_DEFINITION } from "../core/db/table";
import { applyStackSuppressions, isEphemeralStage, removalPolicyFor } from "./defaults";

/** Every key attribute named by TABLE_DEFINITION (table and GSI keys), typed as a string like locally. */
function keyFields(): Record<string, "string"> {
  const { partitionKey, sortKey, globalIndexes } = TABLE_DEFINITION;
  const names = [partitionKey, sortKey, ...Object.values(globalIndexes).flatMap((i) => [i.partitionKey, i.sortKey])];
  return Object.fromEntries(names.map((name) => [name, "string" as const]));
}

/**
 * The one table, built from TABLE_DEFINITION (the definition the local runtime gives DynamoDB Local),
 * so the deployed table and the emulated one cannot drift apart.
 */
export function Storage({ stack }: StackContext) {
  const { partitionKey, sortKey, globalIndexes, ttlAttribute, stream } = TABLE_DEFINITION;
  const durable = !isEphemeralStage(stack.stage);
  const table = new Table(stack, "Table", {
    fields: keyFields(),
    primaryIndex: { partitionKey, sortKey },
    globalIndexes: Object.fromEntries(
      Object.entries(globalIndexes).map(([name, index]) => [
        name,
        { partitionKey: index.partitionKey, sortKey: index.sortKey, projection: "all" as const },
      ]),
    ),
    timeToLiveAttribute: ttlAttribute,
    stream: stream.toLowerCase() as Lowercase<typeof stream>,
    cdk: {
      table: {
        billingMode: BillingMode.PAY_PER_REQUEST,
        // SST sets the deprecated `pointInTimeRecovery` flag by default; CDK refuses both at once.
        pointInTimeRecovery: undefined,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        // Tenant data: a stage with real data cannot lose its table to a stack update or removal.
        deletionProtection: durable,
        removalPolicy: removalPolicyFor(stack.stage),
      },
    },
  });
  applyStackSuppressions(stack);
  stack.addOutputs({ TableName: table.tableName });
  return { table };
}
