import { Duration } from "aws-cdk-lib";
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { type StackContext, use } from "sst/constructs";
import { routingRoutes } from "../functions/manifest/routing";
import { wsRouteKeys } from "../functions/manifest/realtime";
import { TABLE_DEFINITION } from "../core/db/table";
import { Alerts } from "./alerts";
import { Api, API_DOMAIN_STACKS } from "./api";
import { applyStackSuppressions, type GroupedFunction } from "./defaults";
import { Realtime } from "./realtime";
import { Storage } from "./storage";
import { Stream } from "./stream";

/**
 * The platform's alarms and its one dashboard (stack "Monitoring", last: it only reads what the other
 * stacks built). What each alarm means and what to do first: docs/operations.md. The thresholds are
 * here, once, and the document explains them; the stack test checks the alarms against them.
 */

/** Every alarm's evaluation period. Five minutes: CloudWatch's cheapest resolution that still reacts within minutes. */
export const ALARM_PERIOD = Duration.minutes(5);

/**
 * Metrics one alarm's math expression may use (CloudWatch allows 10 per alarm): a function group
 * larger than this gets one alarm per slice of 10 functions.
 */
export const MAX_METRICS_PER_ALARM = 10;

export const ALARM_THRESHOLDS = {
  /**
   * Unhandled failures (exceptions, timeouts, out of memory) of a group's functions in one period.
   * Bad input never counts (it is a 4xx answer, not a Lambda error), so a handful is a defect or a
   * failing dependency, not a noisy client; one is left to the logs, as a cold DynamoDB blip can be.
   */
  functionErrors: { threshold: 5, evaluationPeriods: 1 },
  /** Any invocation Lambda refused for lack of concurrency: a request the platform could not serve. */
  functionThrottles: { threshold: 1, evaluationPeriods: 1 },
  /**
   * How far behind the table a stream consumer reads (IteratorAge, maximum, ms), sustained over two
   * periods: 10 minutes means the audit log and the revocation backstop lag by that much; the mapping
   * gives up on records at 6 h (STREAM_RETRY) and the stream drops them at 24 h.
   */
  iteratorAgeMs: { threshold: 10 * 60 * 1000, evaluationPeriods: 2 },
  /**
   * Read and write throttle events of the table and its index in one period, in two periods running.
   * On demand, throttling means a hot partition or the table's per-second limit; the SDK retries, so a
   * few are absorbed, a sustained stream is user-facing latency and 503s.
   */
  tableThrottles: { threshold: 10, evaluationPeriods: 2 },
  /**
   * 5xx answers of the HTTP API as a percentage of its requests, over two periods running, counted only
   * in periods with at least `minRequests` requests (a single 503 among three requests is not a rate).
   */
  http5xxPercent: { threshold: 1, evaluationPeriods: 2, minRequests: 20 },
  /**
   * Frames and connection attempts the WebSocket API failed to hand to its functions (ExecutionError),
   * as a percentage of all of them, under the same rules as the HTTP rate.
   */
  wsExecutionErrorPercent: { threshold: 1, evaluationPeriods: 2, minRequests: 20 },
} as const;

/** Splits a list into slices of at most `size`. */
function slices<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** A metric-math id: lowercase first, letters, digits and underscores only. */
const mathId = (...parts: (string | number)[]) => `m_${parts.join("_").replace(/[^A-Za-z0-9_]/g, "_")}`.toLowerCase();

/**
 * The sum over some functions of one Lambda metric, as one time series. FILL(…, 0): a function that
 * was not invoked publishes nothing, and without the fill one idle function would blank the sum.
 */
function sumOver(fns: readonly GroupedFunction[], metric: "Errors" | "Throttles", idPrefix: string, label: string): MathExpression {
  return new MathExpression({
    expression: "SUM(FILL(METRICS(), 0))",
    usingMetrics: Object.fromEntries(
      fns.map((f, i) => [mathId(idPrefix, i), f.fn.metric(metric, { statistic: "Sum", period: ALARM_PERIOD })]),
    ),
    label,
    period: ALARM_PERIOD,
  });
}

/**
 * The Monitoring stack for a Stream stack (the manifest's consumers by default): a factory, like the
 * Stream stack's, so a test can pair it with a sample consumer.
 */
export function createMonitoringStack(stream: typeof Stream) {
  function Monitoring({ stack }: StackContext) {
    const { topic } = use(Alerts);
    const { table } = use(Storage);
    const realtime = use(Realtime);
    const core = use(Api);
    const domains = API_DOMAIN_STACKS.map((s) => use(s));
    const consumers = use(stream);

    const functions: GroupedFunction[] = [
      ...core.functions,
      ...domains.flatMap((d) => d.functions),
      ...realtime.functions,
      ...consumers.functions,
    ];
    const groups = new Map<string, GroupedFunction[]>();
    for (const f of functions) groups.set(f.group, [...(groups.get(f.group) ?? []), f]);

    const alarms: Alarm[] = [];
    const alarm = (id: string, props: ConstructorParameters<typeof Alarm>[2]) => {
      const created = new Alarm(stack, id, {
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        ...props,
      });
      created.addAlarmAction(new SnsAction(topic));
      alarms.push(created);
      return created;
    };
    const pascal = (s: string) => s.replace(/(^|[^A-Za-z0-9])([a-z])/g, (_, __, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, "");

    // Lambda errors and throttles per manifest domain, one alarm per slice of at most 10 functions.
    const groupSeries: { errors: IMetric[]; throttles: IMetric[] } = { errors: [], throttles: [] };
    for (const [group, fns] of groups) {
      const parts = slices(fns, MAX_METRICS_PER_ALARM);
      parts.forEach((part, i) => {
        const suffix = parts.length > 1 ? ` (${i + 1}/${parts.length})` : "";
        const id = `${pascal(group)}${parts.length > 1 ? i + 1 : ""}`;
        const errors = sumOver(part, "Errors", `${group}_${i}_e`, `${group} errors${suffix}`);
        const throttles = sumOver(part, "Throttles", `${group}_${i}_t`, `${group} throttles${suffix}`);
        groupSeries.errors.push(errors);
        groupSeries.throttles.push(throttles);
        alarm(`${id}FunctionErrors`, {
          alarmDescription: `${group}${suffix}: ${ALARM_THRESHOLDS.functionErrors.threshold} or more Lambda errors (unhandled failures, timeouts) in 5 minutes, over ${part.map((f) => f.name).join(", ")}. Runbook: docs/operations.md, "Function errors".`,
          metric: errors,
          ...ALARM_THRESHOLDS.functionErrors,
        });
        alarm(`${id}FunctionThrottles`, {
          alarmDescription: `${group}${suffix}: Lambda refused invocations for lack of concurrency. Runbook: docs/operations.md, "Function throttles".`,
          metric: throttles,
          ...ALARM_THRESHOLDS.functionThrottles,
        });
      });
    }

    // How far behind the table each stream consumer reads.
    const iteratorAges = Object.entries(consumers.consumers).map(([name, fn]) => {
      const metric = fn.metric("IteratorAge", { statistic: "Maximum", period: ALARM_PERIOD, label: `${name} iterator age (ms)` });
      alarm(`Consumer${pascal(name)}IteratorAge`, {
        alarmDescription: `${name} stream consumer: reading ${ALARM_THRESHOLDS.iteratorAgeMs.threshold / 60_000} minutes or more behind the table for 10 minutes. Runbook: docs/operations.md, "Stream iterator age".`,
        metric,
        ...ALARM_THRESHOLDS.iteratorAgeMs,
      });
      return metric;
    });

    // Table throttling, the table's and its indexes' read and write throttle events summed.
    const tableName = table.tableName;
    const throttleMetrics: Record<string, Metric> = {};
    for (const kind of ["Read", "Write"] as const) {
      throttleMetrics[mathId("table", kind)] = new Metric({
        namespace: "AWS/DynamoDB",
        metricName: `${kind}ThrottleEvents`,
        dimensionsMap: { TableName: tableName },
        statistic: "Sum",
        period: ALARM_PERIOD,
      });
      for (const index of Object.keys(TABLE_DEFINITION.globalIndexes)) {
        throttleMetrics[mathId(index, kind)] = new Metric({
          namespace: "AWS/DynamoDB",
          metricName: `${kind}ThrottleEvents`,
          dimensionsMap: { TableName: tableName, GlobalSecondaryIndexName: index },
          statistic: "Sum",
          period: ALARM_PERIOD,
        });
      }
    }
    const tableThrottles = new MathExpression({
      expression: "SUM(FILL(METRICS(), 0))",
      usingMetrics: throttleMetrics,
      label: "table throttle events",
      period: ALARM_PERIOD,
    });
    alarm("TableThrottles", {
      alarmDescription: `The table (or its index) throttled ${ALARM_THRESHOLDS.tableThrottles.threshold} or more requests in each of 2 periods of 5 minutes running. Runbook: docs/operations.md, "Table throttles".`,
      metric: tableThrottles,
      ...ALARM_THRESHOLDS.tableThrottles,
    });

    // The HTTP API's 5xx rate.
    const httpApi = core.api.cdk.httpApi;
    const httpCount = httpApi.metricCount({ statistic: "Sum", period: ALARM_PERIOD, label: "requests" });
    const http5xx = httpApi.metricServerError({ statistic: "Sum", period: ALARM_PERIOD, label: "5xx" });
    const http4xx = httpApi.metricClientError({ statistic: "Sum", period: ALARM_PERIOD, label: "4xx" });
    const { minRequests: httpMin, ...httpRate } = ALARM_THRESHOLDS.http5xxPercent;
    const http5xxRate = new MathExpression({
      expression: `IF(requests >= ${httpMin}, 100 * FILL(errors, 0) / requests, 0)`,
      usingMetrics: { requests: httpCount, errors: http5xx },
      label: "HTTP 5xx (% of requests)",
      period: ALARM_PERIOD,
    });
    alarm("Http5xxRate", {
      alarmDescription: `The HTTP API answered ${httpRate.threshold}% or more of its requests with a 5xx, 10 minutes running. Runbook: docs/operations.md, "API 5xx rate".`,
      metric: http5xxRate,
      ...httpRate,
    });

    // The WebSocket API's execution errors (API Gateway could not invoke a function) as a rate.
    const wsMetric = (metricName: string, label: string) =>
      new Metric({
        namespace: "AWS/ApiGateway",
        metricName,
        dimensionsMap: { ApiId: realtime.apiId, Stage: realtime.stage },
        statistic: "Sum",
        period: ALARM_PERIOD,
        label,
      });
    const wsMessages = wsMetric("MessageCount", "frames");
    const wsConnects = wsMetric("ConnectCount", "connects");
    const wsExecution = wsMetric("ExecutionError", "execution errors");
    const wsIntegration = wsMetric("IntegrationError", "integration errors (4xx/5xx of functions)");
    const { minRequests: wsMin, ...wsRate } = ALARM_THRESHOLDS.wsExecutionErrorPercent;
    const wsErrorRate = new MathExpression({
      expression: `IF(FILL(frames, 0) + FILL(connects, 0) >= ${wsMin}, 100 * FILL(errors, 0) / (FILL(frames, 0) + FILL(connects, 0)), 0)`,
      usingMetrics: { frames: wsMessages, connects: wsConnects, errors: wsExecution },
      label: "WebSocket execution errors (% of frames and connects)",
      period: ALARM_PERIOD,
    });
    alarm("WebSocketErrorRate", {
      alarmDescription: `The WebSocket API failed to hand ${wsRate.threshold}% or more of its frames and connects to a function, 10 minutes running. Runbook: docs/operations.md, "API 5xx rate".`,
      metric: wsErrorRate,
      ...wsRate,
    });

    // The dashboard: the same signals, plus latency and the chat functions' durations.
    const chatKey = `${routingRoutes.chatCompletions.method} ${routingRoutes.chatCompletions.path}`;
    const chatFunctions = [
      functions.find((f) => f.name === chatKey),
      functions.find((f) => f.name === wsRouteKeys.chat.routeKey && f.group === "realtime"),
    ].filter((f): f is GroupedFunction => f !== undefined);
    const latency = (stat: string) => httpApi.metricLatency({ statistic: stat, period: Duration.minutes(1), label: `latency ${stat}` });
    const wide = { width: 12, height: 6 } as const;

    const dashboard = new Dashboard(stack, "Dashboard", {
      dashboardName: `${stack.stage}-agentorg`,
      defaultInterval: Duration.hours(3),
    });
    dashboard.addWidgets(
      new TextWidget({
        markdown: "# agentorg\nAlarms and what to do first: docs/operations.md in the repository. Every alarm notifies the `AlarmTopicArn` SNS topic.",
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(new AlarmStatusWidget({ title: "Alarms", alarms, width: 24, height: 4 }));
    dashboard.addWidgets(
      new GraphWidget({ title: "HTTP API: requests, 4xx, 5xx", left: [httpCount, http4xx, http5xx], right: [http5xxRate], ...wide }),
      new GraphWidget({ title: "HTTP API latency (ms, p50 and p99)", left: [latency("p50"), latency("p99")], ...wide }),
    );
    dashboard.addWidgets(
      new GraphWidget({ title: "WebSocket API: frames, connects, errors", left: [wsMessages, wsConnects, wsIntegration, wsExecution], right: [wsErrorRate], ...wide }),
      new GraphWidget({
        title: "Chat function duration (ms, p50 and p99)",
        left: chatFunctions.flatMap((f) =>
          ["p50", "p99"].map((stat) => f.fn.metricDuration({ statistic: stat, period: Duration.minutes(1), label: `${f.name} ${stat}` })),
        ),
        ...wide,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({ title: "Lambda errors per domain", left: groupSeries.errors, ...wide }),
      new GraphWidget({ title: "Lambda throttles per domain", left: groupSeries.throttles, ...wide }),
    );
    dashboard.addWidgets(
      new GraphWidget({ title: "Stream consumers: iterator age (ms)", left: iteratorAges, ...wide }),
      new GraphWidget({
        title: "Failure queues and table throttles",
        left: Object.entries(consumers.failureQueues).map(([name, queue]) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", period: ALARM_PERIOD, label: `${name} failed batches waiting` }),
        ),
        right: [tableThrottles],
        ...wide,
      }),
    );

    applyStackSuppressions(stack);
    stack.addOutputs({ DashboardName: dashboard.dashboardName });
    return { alarms, dashboard };
  }
  // SST names a stack after its function.
  return Object.defineProperty(Monitoring, "name", { value: "Monitoring" });
}

/** Alarms and dashboard over the manifest's stacks. */
export const Monitoring = createMonitoringStack(Stream);
