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
 */
export type Permission = "table:read" | "table:write" | "connections:manage" | "models:keys";

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
  permissions: Permission[];
  /**
   * The handler may stream its answer (SSE). Locally the gateway hands it a response sink; in AWS it is
   * served by a Lambda function URL with response streaming, since HTTP APIs buffer responses.
   */
  streaming?: boolean;
  /** For streaming routes: the export served by the function URL (`functions/http/x.stream`). */
  streamHandler?: string;
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

/** Preserves the literal types of a route so handlers get typed params, query and body. */
export const httpRoute = <const R extends HttpRouteSpec>(route: R): R => route;
export const wsRoute = <const R extends WsRouteSpec>(route: R): R => route;
