import { Duration } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { FilterCriteria, StartingPosition } from "aws-cdk-lib/aws-lambda";
import { SqsDlq, SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import { Function as SstFunction, type Stack, type StackContext, use } from "sst/constructs";
import type { QueueConsumerSpec, ScheduledFunctionSpec, StreamConsumerSpec } from "../functions/manifest.types";
import { auditConsumer } from "../functions/manifest/audit";
import { revocationConsumer } from "../functions/manifest/realtime";
import { slaSweep, ticketTriageConsumer } from "../functions/manifest/tickets";
import { workDispatcher } from "../functions/manifest/work";
import { queues as manifestQueues, scheduled as manifestScheduled, streams } from "../functions/routes";
import { Alerts } from "./alerts";
import { applyStackSuppressions, baseEnvironment, constructId, type GroupedFunction, manifestFunction, tableTarget } from "./defaults";
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
 * The redrive of a failure queue (functions/lib/stream-redrive.ts): it may run this long (it stops
 * taking messages 30 s before the end), and is not retried by Lambda when it reports a batch that
 * failed again (the next scheduled run retries it, and the failure raises an alarm). No reserved
 * concurrency: a new account's 10 concurrent executions leave none to reserve, and two overlapping
 * runs are harmless (a received message is hidden from the other run, and replays are idempotent).
 */
export const REDRIVE_FUNCTION = { timeout: 300, retryAttempts: 0 } as const;

/** What makes an operator look: a batch still waiting after 3 redrive periods, or for an hour, or a redrive that failed. */
export const REDRIVE_ALARMS = {
  visibleMessages: { threshold: 1, evaluationPeriods: 3 },
  oldestMessageSeconds: 3600,
  errors: 1,
} as const;

/**
 * The work queue's alarms: anything in its dead-letter queue is a task that failed every retry (the
 * dead-letter consumer ends it and tells the delegator; a message that stays there failed even that),
 * and a task waiting an hour means the workers do not keep up.
 */
export const WORK_QUEUE_ALARMS = { deadLetters: 1, oldestTaskSeconds: 3600 } as const;

/** Reading a failure queue and removing what was replayed (no send, no purge). */
export const REDRIVE_QUEUE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"] as const;

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
 *
 * The manifest's scheduled functions (the reservation reconciler) live here too, next to the redrives
 * they resemble: each its own function with its manifest permissions, run by an EventBridge Rule.
 */
export function createStreamStack(
  consumers: readonly StreamConsumerSpec[],
  scheduledFunctions: readonly ScheduledFunctionSpec[] = [],
  queueConsumers: readonly QueueConsumerSpec[] = [],
) {
  function Stream({ stack }: StackContext) {
    const { table } = use(Storage);
    const realtime = use(Realtime);
    const streamArn = table.cdk.table.tableStreamArn;
    if (!streamArn) throw new Error("The table has no stream: the Stream stack needs TABLE_DEFINITION.stream.");
    // The queues first: the stream's dispatcher sends to the work queue.
    const queues: Record<string, { queue: Queue; deadLetters: Queue }> = {};
    for (const spec of queueConsumers) {
      const id = `Queue${constructId(spec.name)}`;
      const deadLetters = new Queue(stack, `${id}DeadLetters`, { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
      suppressUnder(deadLetters, [{ id: "AwsSolutions-SQS3", reason: "This queue is the dead-letter queue of the work queue; a DLQ behind it would have nothing to catch." }]);
      const queue = new Queue(stack, id, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: deadLetters, maxReceiveCount: spec.maxReceiveCount },
      });
      queues[spec.name] = { queue, deadLetters };
    }
    const work = queueConsumers[0] ? queues[queueConsumers[0].name]! : undefined;
    const targets: PermissionTargets = { table: tableTarget(table), connections: realtime.connections, ...(work ? { workQueue: { arn: work.queue.queueArn } } : {}) };
    const environment = {
      ...baseEnvironment(table),
      AGENTORG_WS_ENDPOINT: realtime.managementEndpoint,
      ...Object.fromEntries(queueConsumers.map((spec) => [spec.urlEnv, queues[spec.name]!.queue.queueUrl])),
    };

    const functions: Record<string, SstFunction> = {};
    const redrives: Record<string, SstFunction> = {};
    const failureQueues: Record<string, Queue> = {};
    // Every alarm goes to the platform's one topic (stacks/alerts.ts).
    const { topic: alarmTopic } = use(Alerts);
    const alarms = () => alarmTopic;
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
      failureQueues[consumer.name] = failures;

      if (consumer.redrive) {
        const redrive = redriveFunction(stack, `${id}Redrive`, { permissions: consumer.permissions, redrive: consumer.redrive }, {
          environment: { ...environment, ...extras.environment, AGENTORG_FAILURE_QUEUE_URL: failures.queueUrl },
          targets,
          statements: [
            new PolicyStatement({ actions: [...STREAM_READ_ACTIONS], resources: [streamArn] }),
            new PolicyStatement({ actions: [...REDRIVE_QUEUE_ACTIONS], resources: [failures.queueArn] }),
            ...extras.statements,
          ],
        });
        new Rule(stack, `${id}RedriveSchedule`, {
          description: `Replays what the ${consumer.name} consumer's stream mapping gave up on`,
          schedule: Schedule.rate(Duration.minutes(consumer.redrive.everyMinutes)),
          targets: [new LambdaFunction(redrive, { retryAttempts: 0 })],
        });
        const topic = alarms();
        const period = Duration.minutes(consumer.redrive.everyMinutes);
        const alarmsOf = [
          new Alarm(stack, `${id}FailuresWaiting`, {
            alarmDescription: `${consumer.name}: failed stream batches wait in the failure queue through ${REDRIVE_ALARMS.visibleMessages.evaluationPeriods} redrive periods (the stream keeps records 24 h)`,
            metric: failures.metricApproximateNumberOfMessagesVisible({ period, statistic: "Maximum" }),
            threshold: REDRIVE_ALARMS.visibleMessages.threshold,
            evaluationPeriods: REDRIVE_ALARMS.visibleMessages.evaluationPeriods,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
          new Alarm(stack, `${id}FailuresOldest`, {
            alarmDescription: `${consumer.name}: the oldest failed stream batch has waited over an hour (its records leave the stream after 24 h)`,
            metric: failures.metricApproximateAgeOfOldestMessage({ period, statistic: "Maximum" }),
            threshold: REDRIVE_ALARMS.oldestMessageSeconds,
            evaluationPeriods: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
          new Alarm(stack, `${id}RedriveErrors`, {
            alarmDescription: `${consumer.name}: a redrive run failed, or a replayed batch failed again`,
            metric: redrive.metricErrors({ period, statistic: "Sum" }),
            threshold: REDRIVE_ALARMS.errors,
            evaluationPeriods: 1,
            comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treatMissingData: TreatMissingData.NOT_BREACHING,
          }),
        ];
        for (const alarm of alarmsOf) alarm.addAlarmAction(new SnsAction(topic));
        redrives[consumer.name] = redrive;
      } else {
        // Nothing replays this queue: any batch in it is a change the consumer never applied.
        new Alarm(stack, `${id}FailuresQueued`, {
          alarmDescription: `${consumer.name}: a stream batch ran out of retries and waits in the failure queue (no redrive: replay it by hand, docs/operations.md)`,
          metric: failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: "Maximum" }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }).addAlarmAction(new SnsAction(alarms()));
      }
    }

    // Each queue's worker (up to 15 minutes, fed by an SqsEventSource that reports batch item failures,
    // with a maximum concurrency) and its dead-letter consumer; alarms on the dead-letter queue's depth
    // and on the oldest waiting task.
    const workers: Record<string, SstFunction> = {};
    for (const spec of queueConsumers) {
      const { queue, deadLetters } = queues[spec.name]!;
      const id = `Worker${constructId(spec.name)}`;
      const worker = new SstFunction(stack, id, { ...manifestFunction(stack, id, spec, { environment, targets }), timeout: spec.timeoutSeconds, retryAttempts: 0 });
      worker.addEventSource(new SqsEventSource(queue, { batchSize: spec.batchSize, reportBatchItemFailures: true, maxConcurrency: spec.maxConcurrency }));
      const deadId = `Worker${constructId(spec.deadLetter.name)}`;
      const deadWorker = new SstFunction(stack, deadId, {
        ...manifestFunction(stack, deadId, { handler: spec.deadLetter.handler, permissions: spec.deadLetter.permissions }, { environment, targets }),
        timeout: spec.deadLetter.timeoutSeconds,
        retryAttempts: 0,
      });
      deadWorker.addEventSource(new SqsEventSource(deadLetters, { batchSize: spec.deadLetter.batchSize, reportBatchItemFailures: true, maxConcurrency: spec.deadLetter.maxConcurrency }));
      new Alarm(stack, `${id}DeadLetters`, {
        alarmDescription: `${spec.name}: tasks failed every retry and wait in the dead-letter queue (its consumer marks them failed; one that stays failed even that)`,
        metric: deadLetters.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: "Maximum" }),
        threshold: WORK_QUEUE_ALARMS.deadLetters,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(alarms()));
      new Alarm(stack, `${id}Oldest`, {
        alarmDescription: `${spec.name}: a task has waited in the queue over an hour (workers at their concurrency, or failing)`,
        metric: queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: "Maximum" }),
        threshold: WORK_QUEUE_ALARMS.oldestTaskSeconds,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(new SnsAction(alarms()));
      workers[spec.name] = worker;
      workers[spec.deadLetter.name] = deadWorker;
    }

    const scheduled: Record<string, SstFunction> = {};
    for (const spec of scheduledFunctions) {
      const id = `Scheduled${constructId(spec.name)}`;
      if (scheduled[spec.name]) throw new Error(`Two scheduled functions are named ${spec.name}.`);
      const props = manifestFunction(stack, id, spec, { environment: baseEnvironment(table), targets });
      // Not retried by Lambda: the next scheduled run does the same work again (each release is exactly once).
      const fn = new SstFunction(stack, id, { ...props, timeout: spec.timeoutSeconds, retryAttempts: 0 });
      new Rule(stack, `${id}Schedule`, {
        description: `Runs ${spec.name} every ${spec.everyMinutes} minutes`,
        schedule: Schedule.rate(Duration.minutes(spec.everyMinutes)),
        targets: [new LambdaFunction(fn, { retryAttempts: 0 })],
      });
      scheduled[spec.name] = fn;
    }

    applyStackSuppressions(stack);
    // Monitoring groups them by manifest domain: each consumer and its redrive with its manifest file's
    // routes; the reservation reconciler with the routing domain's, whose budget reservations it
    // repairs, and the SLA sweep with the tickets domain's.
    const grouped: GroupedFunction[] = [
      ...consumers.flatMap((consumer) => [
        { group: consumerGroup(consumer), name: consumer.name, fn: functions[consumer.name]! },
        ...(redrives[consumer.name] ? [{ group: consumerGroup(consumer), name: `${consumer.name} redrive`, fn: redrives[consumer.name]! }] : []),
      ]),
      ...scheduledFunctions.map((spec) => ({ group: SCHEDULED_DOMAINS.get(spec) ?? "routing", name: spec.name, fn: scheduled[spec.name]! })),
      ...queueConsumers.flatMap((spec) => [
        { group: "work", name: spec.name, fn: workers[spec.name]! },
        { group: "work", name: spec.deadLetter.name, fn: workers[spec.deadLetter.name]! },
      ]),
    ];
    return { consumers: functions, redrives, scheduled, failureQueues, queues, workers, alarmTopic, functions: grouped };
  }
  // SST names a stack after its function; bundlers may rename an inner function (Stream2).
  return Object.defineProperty(Stream, "name", { value: "Stream" });
}

/** The manifest file (domain) declaring each of the manifest's consumers. */
const CONSUMER_DOMAINS = new Map<StreamConsumerSpec, string>([
  [auditConsumer, "audit"],
  [revocationConsumer, "realtime"],
  [ticketTriageConsumer, "tickets"],
  [workDispatcher, "work"],
]);

/** The manifest domain of scheduled functions other than the routing domain's reservation reconciler. */
const SCHEDULED_DOMAINS = new Map<ScheduledFunctionSpec, string>([[slaSweep, "tickets"]]);

/**
 * The manifest domain of a consumer, for monitoring: the file that declares it (the revocation
 * backstop is the realtime domain's); a consumer from elsewhere (a test's) is a group of its own.
 */
export function consumerGroup(consumer: StreamConsumerSpec): string {
  return CONSUMER_DOMAINS.get(consumer) ?? consumer.name;
}

/**
 * A consumer's redrive function: its own role with the consumer's permissions (it runs the consumer
 * in-process), the stream and the failure queue; it may run longer than an API function.
 */
function redriveFunction(
  stack: Stack,
  id: string,
  consumer: { permissions: StreamConsumerSpec["permissions"]; redrive: NonNullable<StreamConsumerSpec["redrive"]> },
  options: { environment: Record<string, string>; targets: PermissionTargets; statements: PolicyStatement[] },
): SstFunction {
  const props = manifestFunction(stack, id, { handler: consumer.redrive.handler, permissions: consumer.permissions }, options);
  const fn = new SstFunction(stack, id, {
    ...props,
    timeout: REDRIVE_FUNCTION.timeout,
    retryAttempts: REDRIVE_FUNCTION.retryAttempts,
  });
  fn.attachPermissions(options.statements);
  return fn;
}

/** The manifest's stream consumers, scheduled functions and queues (functions/routes.ts `streams`, `scheduled`, `queues`). */
export const Stream = createStreamStack(streams, manifestScheduled, manifestQueues);
