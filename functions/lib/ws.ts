import type { APIGatewayProxyResultV2, APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import type { ConnectionPusher } from "../../core/realtime/ports";
import { createPusher, managementEndpoint } from "./connections";
import { logger } from "./logger";
import { problemOf } from "./problem";
import { services } from "./services";

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
}

/**
 * Wraps a WebSocket route's logic. A domain error on a message route is sent back to the caller as an
 * `error` frame (problem details) and the connection stays open; on `$connect` it refuses the
 * connection with the problem's status.
 */
export function wsHandler(logic: (request: WsRequest) => Promise<APIGatewayProxyResultV2 | void>) {
  return async (event: WsEvent): Promise<APIGatewayProxyResultV2> => {
    const { connectionId, requestId, routeKey } = event.requestContext;
    logger.appendKeys({ requestId, connectionId, routeKey });
    const pusher = createPusher(managementEndpoint(event.requestContext));
    let frame: unknown;
    try {
      frame = event.body ? JSON.parse(event.body) : undefined;
    } catch {
      frame = undefined;
    }
    try {
      const result = await logic({ event, connectionId, requestId, frame, pusher });
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

export { services };
