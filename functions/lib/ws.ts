import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import type { Connection, ConnectionPusher } from "../../core/realtime/ports";
import type { Organization } from "../../core/tenants/organization.schema";
import { keyIdOf } from "../../core/realtime/sessions";
import { invalidInput, unauthorized } from "../../core/errors";
import { findIllFormedText } from "../../core/shared/text";
import type { z } from "../../core/shared/zod";
import type { WsRouteSpec } from "../manifest.types";
import { fieldErrorsOf } from "./field-errors";
import { createPusher, managementEndpoint } from "./connections";
import { deadlineOf, type InvocationContext } from "./invocation";
import { logger } from "./logger";
import { problemOf } from "./problem";
import { access } from "./services/access";
import { realtime } from "./services/realtime";

/** A WebSocket route event; `$connect` events also carry headers and query parameters. */
export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  headers?: Record<string, string | undefined>;
  queryStringParameters?: Record<string, string | undefined>;
};

export interface WsRequest {
  event: WsEvent;
  connectionId: string;
  requestId: string;
  /** Parsed JSON frame (`undefined` for `$connect`/`$disconnect` or a frame that is not JSON). */
  frame: unknown;
  pusher: ConnectionPusher;
  /** When the invocation ends (epoch ms, from its context); undefined without a context. */
  deadline?: number;
}

/**
 * Wraps a WebSocket route's logic. A domain error on a message route is sent back to the caller as an
 * `error` frame (problem details) and the connection stays open; on `$connect` it refuses the
 * connection with the problem's status.
 */
export function wsHandler(logic: (request: WsRequest) => Promise<APIGatewayProxyResultV2 | void>) {
  return async (event: WsEvent, context?: InvocationContext): Promise<APIGatewayProxyResultV2> => {
    const { connectionId, requestId, routeKey } = event.requestContext;
    const deadline = deadlineOf(context);
    logger.appendKeys({ requestId, connectionId, routeKey });
    const pusher = createPusher(managementEndpoint(event.requestContext));
    let frame: unknown;
    try {
      frame = event.body ? JSON.parse(event.body) : undefined;
    } catch {
      frame = undefined;
    }
    try {
      const bad = findIllFormedText(frame);
      if (bad) throw invalidInput(`The frame holds text that is not accepted: ${bad.field} ${bad.message}.`, [bad], "invalid_text");
      const result = await logic({ event, connectionId, requestId, frame, pusher, ...(deadline !== undefined ? { deadline } : {}) });
      return result ?? { statusCode: 200 };
    } catch (error) {
      const problem = problemOf(error, requestId);
      if (problem.status >= 500) logger.error("ws route failed", { error: error as Error });
      if (routeKey === "$connect" || routeKey === "$disconnect") {
        return { statusCode: problem.status, body: JSON.stringify(problem) };
      }
      // Echo the frame's own id, so a client with several requests in flight knows which one failed.
      const id = (frame as { id?: unknown } | undefined)?.id;
      await pusher.post(connectionId, { type: "error", ...(typeof id === "string" ? { id } : {}), problem });
      return { statusCode: 200 };
    } finally {
      logger.removeKeys(["requestId", "connectionId", "routeKey"]);
    }
  };
}

/** A frame on an open connection, with the principal it acts for, checked again for this frame. */
export interface WsActionRequest extends WsRequest {
  /** The organization key the connection was opened with; still valid when the logic runs. */
  principal: { kind: "org"; orgId: string; keyId: string; monthlyBudgetUsd?: number };
  /** The connection's organization as the credential check read it (at most CREDENTIAL_CHECK_TTL_MS old). */
  org: Organization;
  connection: Connection;
}

/** Connections this instance has looked up, at most this many (least recently added go first). */
export const CONNECTION_CACHE_SIZE = 1_000;
/** And for at most this long. */
export const CONNECTION_CACHE_MS = 10 * 60_000;
const knownConnections = new Map<string, { connection: Connection; until: number }>();

/**
 * A connection's record, remembered by this warm instance: what a frame needs of it (organization,
 * key, actor) never changes while the socket is open, and API Gateway delivers frames only from open
 * sockets, so a conversation's frames after the first skip the lookup. What can change, whether the
 * key and organization are still valid, is checked on every frame all the same (the credential check).
 * Its topics may be stale here: no action reads them from this record.
 */
async function findConnection(connectionId: string): Promise<Connection | undefined> {
  const now = Date.now();
  const known = knownConnections.get(connectionId);
  if (known && known.until > now) return known.connection;
  const connection = await realtime().connections.find(connectionId);
  knownConnections.delete(connectionId);
  if (connection) {
    knownConnections.set(connectionId, { connection, until: now + CONNECTION_CACHE_MS });
    while (knownConnections.size > CONNECTION_CACHE_SIZE) knownConnections.delete(knownConnections.keys().next().value as string);
  }
  return connection;
}

/** Forgets a connection (its socket closed) so a reused instance does not hold it for nothing. */
export const forgetConnection = (connectionId: string): void => void knownConnections.delete(connectionId);

/**
 * Wraps a message route (every route but `$connect`/`$disconnect`): before the logic runs, the
 * connection is looked up and its key and organization are checked again (at most
 * CREDENTIAL_CHECK_TTL_MS old), so nothing runs, is billed or is answered on credentials that were
 * revoked after the socket opened. A connection whose key was revoked, or whose organization was
 * closed, gets a final 401 `credentials_revoked` error frame and is closed.
 *
 * Then the frame is rate limited like an HTTP request of the same key (its key's bucket, then its
 * organization's): over the limit, it gets an `error` frame with the 429 problem (`retryAfterSeconds`,
 * the violated policy) and the connection stays open. The limits are those of the organization as the
 * credential check last read it (at most CREDENTIAL_CHECK_TTL_MS old).
 */
export function wsAction(logic: (request: WsActionRequest) => Promise<APIGatewayProxyResultV2 | void>) {
  return wsHandler(async (request) => {
    const connection = await findConnection(request.connectionId);
    if (!connection) throw unauthorized("This connection is not registered; reconnect.", "connection_unknown");
    const keyId = keyIdOf(connection);
    const valid = keyId ? await access().credentials.validKey(connection.orgId, keyId) : undefined;
    const org = valid?.org;
    if (!keyId || !org) {
      const problem = problemOf(unauthorized("The key of this connection was revoked or its organization closed.", "credentials_revoked"), request.requestId);
      await request.pusher.post(request.connectionId, { type: "error", problem }).catch(() => false);
      await request.pusher.disconnect(request.connectionId).catch(() => false);
      forgetConnection(request.connectionId);
      // Closing it runs `$disconnect`, which forgets the connection (this route needs no table write).
      return { statusCode: 200 };
    }
    // The key's own budget holds for its chat turns as for its HTTP queries.
    const principal = { kind: "org" as const, orgId: connection.orgId, keyId, ...(valid?.monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd: valid.monthlyBudgetUsd } : {}) };
    await access().rateLimits.admitRequest(principal, org);
    return logic({ ...request, connection, principal, org });
  });
}


/** A message route with the schema of its frames (functions/manifest/realtime.ts). */
type FramedRoute = WsRouteSpec & { body: z.ZodType };

/** A message route's request with its frame as its schema parsed it. */
export type WsFrameRequest<R extends FramedRoute> = WsActionRequest & { body: z.output<R["body"]> };

/**
 * A message route from the manifest, as `http()` is for HTTP routes: `wsAction`'s checks (connection,
 * credentials again for this frame, rate limit), then the frame validated by the route's own schema
 * (`body`); a frame it refuses gets an `error` frame, 400 `validation_failed` naming each field, and
 * the connection stays open. The logic gets the parsed frame as `body`.
 */
export function ws<R extends FramedRoute>(route: R, logic: (request: WsFrameRequest<R>) => Promise<APIGatewayProxyResultV2 | void>) {
  return wsAction(async (request) => {
    const parsed = route.body.safeParse(request.frame);
    if (!parsed.success) {
      const errors = fieldErrorsOf(parsed.error);
      throw invalidInput(`Invalid ${route.routeKey} frame: ${errors.map((e) => e.field).join(", ")}.`, errors);
    }
    return logic({ ...request, body: parsed.data as z.output<R["body"]> });
  });
}
