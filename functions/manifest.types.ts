import type { z } from "zod";

/**
 * - `public`: no credentials (health, OpenAPI document).
 * - `operator`: the platform operator key only.
 * - `key`: the operator key or an organization API key; core decides what each may see.
 */
export type AuthLevel = "public" | "operator" | "key";

/**
 * What a function may do, turned into least-privilege IAM statements by the stacks
 * (stacks/permissions.ts) and documented per route in the OpenAPI document.
 *
 * `table:rate-limits`: update its callers' rate-limit buckets (UpdateItem on `T#<orgId>#RL#...`
 * partitions only). Not declared by routes: `runtimePermissions` adds it to every rate-limited one.
 *
 * `queue:work`: send tasks to the agents' work queue (sqs:SendMessage on it; its URL in
 * AGENTORG_WORK_QUEUE_URL).
 */
export type Permission = "table:read" | "table:write" | "table:rate-limits" | "connections:manage" | "models:keys" | "queue:work";

export interface HttpRouteSpec {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** API Gateway path syntax: `/api/v1/organizations/{id}`. */
  path: string;
  /** SST handler string: `functions/http/organizations.create` = file `functions/http/organizations.ts`, export `create`. */
  handler: string;
  auth: AuthLevel;
  summary: string;
  tags: string[];
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  response: { status: number; description: string; schema?: z.ZodType; contentType?: string };
  /** Other non-error answers worth documenting (e.g. /health's 503 with its JSON body). */
  extraResponses?: { status: number; description: string; schema?: z.ZodType }[];
  /**
   * Error answers (problem+json) of the route's own logic, documented in OpenAPI: what the wrappers
   * give every route (400 for input, 401/403/429 for keys, 404 for path ids, 413/415 for a body, 500,
   * 503 for the table) is documented without being listed here.
   */
  errors?: { status: 404 | 409 | 502 | 504; description: string }[];
  permissions: Permission[];
  /**
   * OpenAI-compatible (chat completions, models): its errors also carry OpenAI's
   * `{"error": {"message", "type", "param", "code"}}` member beside the problem's, so OpenAI's SDKs
   * show them (functions/lib/problem.ts `openAiErrorOf`).
   */
  openai?: boolean;
  /**
   * The handler may stream its answer (SSE). Locally the gateway hands it a response sink; in AWS it is
   * served by a Lambda function URL with response streaming, since HTTP APIs buffer responses.
   */
  streaming?: boolean;
  /** For streaming routes: the export served by the function URL (`functions/http/x.stream`). */
  streamHandler?: string;
  /**
   * For streaming routes: what a client sees when the function reaches its time limit
   * (STREAMING_TIMEOUT_SECONDS), stated in the OpenAPI document.
   */
  atLimit?: string;
}

export interface WsRouteSpec {
  /** `$connect`, `$disconnect`, `$default` or an action name selected by `$request.body.action`. */
  routeKey: string;
  handler: string;
  summary: string;
  /** The frame's schema for custom routes (documented; validated by the handler). */
  body?: z.ZodType;
  permissions: Permission[];
}

export interface StreamConsumerSpec {
  name: string;
  handler: string;
  /** Lambda event filter patterns (the same ones the deployed event source mapping gets). */
  filterPatterns: Record<string, unknown>[];
  batchSize: number;
  permissions: Permission[];
  /**
   * The scheduled redrive of the consumer's on-failure queue (AWS): a function that replays the
   * batches the mapping gave up on (functions/lib/stream-redrive.ts). It runs the consumer in-process,
   * so it gets the consumer's permissions, plus the stream and the queue.
   */
  redrive?: { handler: string; everyMinutes: number };
}

/**
 * A queue and the function that consumes it (deployed: an SQS queue with SSE and a redrive policy to
 * its dead-letter queue, an SqsEventSource with ReportBatchItemFailures and a maximum concurrency;
 * locally: local/sqs-endpoint.ts queues and local/queue-poller.ts). The handler gets Lambda's SQS
 * event and answers `{ batchItemFailures }`: failed messages come back after the visibility timeout,
 * and one received more than `maxReceiveCount` times goes to the dead-letter queue, whose own consumer
 * (`deadLetter`) deals with it for good.
 */
export interface QueueConsumerSpec {
  /** The queue's name (locally its name; deployed, SST derives the physical one). */
  name: string;
  handler: string;
  /** Messages per invocation (SQS: at most 10 without a batching window). */
  batchSize: number;
  /** How long a received message stays invisible; at least the function's timeout (AWS requires it). */
  visibilityTimeoutSeconds: number;
  /** Receives before a message goes to the dead-letter queue. */
  maxReceiveCount: number;
  /** The consumer's Lambda timeout (up to 900 s). */
  timeoutSeconds: number;
  /** Concurrent invocations at most (the event source mapping's maximum concurrency, 2 to 1000). */
  maxConcurrency: number;
  permissions: Permission[];
  /** The environment variable that gives senders the queue's URL. */
  urlEnv: string;
  /** The dead-letter queue's consumer: it receives what failed every retry and ends it for good. */
  deadLetter: { name: string; handler: string; batchSize: number; timeoutSeconds: number; permissions: Permission[]; maxConcurrency: number };
}

/**
 * A function run on a schedule (EventBridge Rule in AWS, stacks/stream.ts; a timer in the local
 * runtime, local/scheduler.ts). Its handler gets an empty event and the invocation's context, whose
 * remaining time bounds its work.
 */
export interface ScheduledFunctionSpec {
  name: string;
  handler: string;
  everyMinutes: number;
  /** Its Lambda timeout: the work of one run, bounded by the remaining time. */
  timeoutSeconds: number;
  permissions: Permission[];
}

/**
 * Lambda timeouts of the API's functions, in seconds: the same values the stacks deploy
 * (stacks/defaults.ts FUNCTION_DEFAULTS.timeout, stacks/api.ts STREAMING_TIMEOUT; a unit test keeps
 * them equal), here so the local runtime can give each invocation the same remaining time. 29 s because
 * API Gateway gives up at 30 s; a streaming route (function URL) may run 5 minutes.
 */
export const FUNCTION_TIMEOUT_SECONDS = 29;
export const STREAMING_TIMEOUT_SECONDS = 300;

/** Any manifest function: a route, the fallback, a scheduled function. */
export interface TimedFunctionSpec {
  handler: string;
  streaming?: boolean;
  timeoutSeconds?: number;
}

/** The Lambda timeout of a manifest function, in seconds. */
export function functionTimeoutSeconds(spec: TimedFunctionSpec): number {
  if (spec.timeoutSeconds !== undefined) return spec.timeoutSeconds;
  return spec.streaming ? STREAMING_TIMEOUT_SECONDS : FUNCTION_TIMEOUT_SECONDS;
}

/** Preserves the literal types of a route so handlers get typed params, query and body. */
export const httpRoute = <const R extends HttpRouteSpec>(route: R): R => route;
export const wsRoute = <const R extends WsRouteSpec>(route: R): R => route;

/**
 * Whether the wrappers rate-limit a route: every authenticated HTTP route (functions/lib/http.ts
 * `prepare`, streaming routes included) and every WebSocket route but `$disconnect` (functions/lib/ws.ts).
 */
export function isRateLimited(route: HttpRouteSpec | WsRouteSpec): boolean {
  return "routeKey" in route ? route.routeKey !== "$disconnect" : route.auth !== "public";
}

/**
 * The permissions a route's function runs with: its declared ones, plus what the wrappers do for it:
 * an authenticated HTTP route reads the key and its organization, a WebSocket message route its
 * connection, key and organization (`table:read`, whatever the route itself needs), and a
 * rate-limited route updates its callers' buckets (`table:rate-limits`).
 */
export function runtimePermissions(route: HttpRouteSpec | WsRouteSpec): Permission[] {
  const permissions = new Set<Permission>(route.permissions);
  // Authenticating reads the key and its organization; a WebSocket message route (functions/lib/ws.ts
  // `wsAction`) reads its connection and checks its key and organization again.
  if ("routeKey" in route ? isRateLimited(route) : route.auth !== "public") permissions.add("table:read");
  if (isRateLimited(route)) permissions.add("table:rate-limits");
  return [...permissions];
}
