import { Duration } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { FilterCriteria, StartingPosition } from "aws-cdk-lib/aws-lambda";
import { SqsDlq } from "aws-cdk-lib/aws-lambda-event-sources";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Function as SstFunction, type Stack, type StackContext, use } from "sst/constructs";
import type { StreamConsumerSpec } from "../functions/manifest.types";
import { streams } from "../functions/routes";
import { applyStackSuppressions, baseEnvironment, constructId, manifestFunction, tableTarget } from "./defaults";
import { suppressUnder } from "./nag";
import type { PermissionTargets } from "./permissions";
import { Realtime } from "./realtime";
import { Storage } from "./storage";

/** Reading the table's stream; granted on that one stream ARN (CDK's grantStreamRead uses `*` for ListStreams). */
export const STREAM_READ_ACTIONS = [
  "dynamodb:DescribeStream",
  "dynamodb:GetRecords",
  "dynamodb:GetShardIterator",
  "dynamodb:ListStreams",
] as const;

/**
 * How every consumer's event source mapping retries. A failing record is retried (the batch halved
 * around it, and only the failed records reported back) up to 10 times; after that, or once it is 6 h
 * old, its batch's coordinates go to the consumer's failure queue. Stream records live 24 h, so 6 h
 * leaves most of a day to replay the batch from the stream by hand. One poller per shard (Lambda's
 * default parallelization) keeps a table partition's changes in order, which the audit chain needs.
 */
export const STREAM_RETRY = {
  startingPosition: StartingPosition.TRIM_HORIZON,
  bisectBatchOnError: true,
  reportBatchItemFailures: true,
  retryAttempts: 10,
  maxRecordAge: Duration.hours(6),
} as const;

/**
 * The SSM SecureString parameter holding the audit consumer's checkpoint signing key. CloudFormation
 * cannot create SecureStrings: it is put once per stage by hand (docs/audit-operations.md).
 */
export function auditSigningKeyParameter(stage: string): string {
  return `/agentorg/${stage}/audit-signing-key`;
}

/**
 * What a consumer needs beyond what the manifest's permission vocabulary can say: the audit consumer
 * (and only it) reads its signing key. Keyed by consumer name until the manifest has a permission for it.
 */
function consumerExtras(
  stack: Stack,
  consumer: StreamConsumerSpec,
): { environment: Record<string, string>; statements: PolicyStatement[] } {
  if (consumer.name !== "audit") return { environment: {}, statements: [] };
  const parameter = auditSigningKeyParameter(stack.stage);
  return {
    environment: { AGENTORG_AUDIT_KEY_PARAMETER: parameter },
    statements: [
      new PolicyStatement({
        actions: ["ssm:GetParameter"],
        resources: [stack.formatArn({ service: "ssm", resource: "parameter", resourceName: parameter.slice(1) })],
      }),
    ],
  };
}

/**
 * The Stream stack for a list of consumers: one function each, fed by the table's stream through an
 * event source mapping with the consumer's filter patterns and batch size. A factory so a test can
 * synthesize it with a sample consumer while the manifest's list is still empty.
 */
export function createStreamStack(consumers: readonly StreamConsumerSpec[]) {
  function Stream({ stack }: StackContext) {
    const { table } = use(Storage);
    const realtime = use(Realtime);
    const streamArn = table.cdk.table.tableStreamArn;
    if (!streamArn) throw new Error("The table has no stream: the Stream stack needs TABLE_DEFINITION.stream.");
    const targets: PermissionTargets = { table: tableTarget(table), connections: realtime.connections };
    const environment = { ...baseEnvironment(table), AGENTORG_WS_ENDPOINT: realtime.managementEndpoint };

    const functions: Record<string, SstFunction> = {};
    for (const consumer of consumers) {
      const id = `Consumer${constructId(consumer.name)}`;
      if (functions[consumer.name]) throw new Error(`Two stream consumers are named ${consumer.name}.`);
      const extras = consumerExtras(stack, consumer);
      const props = manifestFunction(stack, id, consumer, {
        environment: { ...environment, ...extras.environment },
        targets,
      });
      const fn = new SstFunction(stack, id, props);
      fn.attachPermissions([
        new PolicyStatement({ actions: [...STREAM_READ_ACTIONS], resources: [streamArn] }),
        ...extras.statements,
      ]);

      // The failure destination receives the coordinates of batches that ran out of retries.
      const failures = new Queue(stack, `${id}Failures`, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      suppressUnder(failures, [
        {
          id: "AwsSolutions-SQS3",
          reason:
            "This queue is itself the on-failure destination of a stream event source mapping (a dead-letter queue); a DLQ behind it would have nothing to catch.",
        },
      ]);

      fn.addEventSourceMapping(`${id}Source`, {
        ...STREAM_RETRY,
        eventSourceArn: streamArn,
        batchSize: consumer.batchSize,
        filters: consumer.filterPatterns.map((pattern) => FilterCriteria.filter(pattern)),
        onFailure: new SqsDlq(failures),
      });
      functions[consumer.name] = fn;
    }

    applyStackSuppressions(stack);
    return { consumers: functions };
  }
  // SST names a stack after its function; bundlers may rename an inner function (Stream2).
  return Object.defineProperty(Stream, "name", { value: "Stream" });
}

/** The manifest's stream consumers (functions/routes.ts `streams`). */
export const Stream = createStreamStack(streams);
