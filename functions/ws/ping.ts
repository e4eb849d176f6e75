import { wsRouteKeys } from "../manifest/realtime";
import { ws } from "../lib/ws";

/** `ping`: answered with a `pong` frame sent back through the @connections API (the full push path), while the connection's key is valid. */
export const handler = ws(wsRouteKeys.ping, async ({ body, connectionId, pusher }) => {
  await pusher.post(connectionId, { type: "pong", ...(body.id ? { id: body.id } : {}), time: new Date().toISOString() });
});
