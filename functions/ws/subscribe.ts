import { unauthorized } from "../../core/errors";
import { wsRouteKeys } from "../manifest/realtime";
import { realtime } from "../lib/services/realtime";
import { ws } from "../lib/ws";

/** `subscribe`: the connection receives the organization's events of these topics as `event` frames. */
export const handler = ws(wsRouteKeys.subscribe, async ({ body, connectionId, pusher, connection }) => {
  // Only the topics: a connection ended meanwhile (revoked, disconnected) is not written back.
  if (!(await realtime().connections.setTopics(connectionId, connection.orgId, body.topics))) {
    throw unauthorized("This connection is not registered; reconnect.", "connection_unknown");
  }
  await pusher.post(connectionId, { type: "subscribed", topics: body.topics });
});
