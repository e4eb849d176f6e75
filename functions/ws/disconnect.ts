import { realtime } from "../lib/services/realtime";
import { forgetConnection, wsHandler } from "../lib/ws";

/** `$disconnect`: best effort by API Gateway's own account, so forgetting the connection must not fail loudly. */
export const handler = wsHandler(async ({ connectionId }) => {
  forgetConnection(connectionId);
  await realtime().connections.remove(connectionId);
});
