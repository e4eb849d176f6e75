import type { HttpRouteSpec, QueueConsumerSpec, ScheduledFunctionSpec, StreamConsumerSpec, WsRouteSpec } from "./manifest.types";
import { auditConsumer, auditRoutes } from "./manifest/audit";
import { organizationRoutes } from "./manifest/organizations";
import { rateLimitRoutes } from "./manifest/rate-limits";
import { fallback, platformRoutes } from "./manifest/platform";
import { Ping, revocationConsumer, wsRouteKeys } from "./manifest/realtime";
import { routingRoutes } from "./manifest/routing";
import { slaSweep, ticketRoutes, ticketTriageConsumer } from "./manifest/tickets";
import { agentRoutes } from "./manifest/agents";
import { reservationReconciler } from "./manifest/metering";
import { workDispatcher, workQueue, workRoutes } from "./manifest/work";

/**
 * THE route manifest: every HTTP route, WebSocket route key, stream consumer, queue consumer and scheduled function, declared once (each
 * domain's routes in functions/manifest/<domain>.ts, gathered here). Generated from it: the SST stacks
 * (stacks/), the local gateways (local/), the OpenAPI document (functions/lib/openapi.ts).
 * A handler string names `functions/<file>.<export>`, as SST does.
 */
export const http = {
  ...platformRoutes,
  ...organizationRoutes,
  ...rateLimitRoutes,
  ...routingRoutes,
  ...ticketRoutes,
  ...agentRoutes,
  ...workRoutes,
  ...auditRoutes,
} as const;

export const ws = wsRouteKeys;

/** Stream consumers fed by the table's stream (deployed: event source mappings; locally: local/stream-poller.ts). */
export const streams: StreamConsumerSpec[] = [auditConsumer, revocationConsumer, ticketTriageConsumer, workDispatcher];

/** Queues and their consumers (deployed: SQS queues with event source mappings, stacks/stream.ts; locally: local/queue-poller.ts). */
export const queues: QueueConsumerSpec[] = [workQueue];

/** Functions run on a schedule (deployed: EventBridge Rules; locally: local/scheduler.ts timers). */
export const scheduled: ScheduledFunctionSpec[] = [reservationReconciler, slaSweep];

export { fallback, Ping };

export type HttpRoutes = typeof http;

/** The manifest as plain lists, for generators (stacks, local gateway, OpenAPI). */
export const httpRoutes: HttpRouteSpec[] = Object.values(http);
export const wsRoutes: WsRouteSpec[] = Object.values(ws);
