import { createConnectionStore } from "../../../core/db/connection.repository";
import { createSessions } from "../../../core/realtime/sessions";
import { createPusher, managementEndpoint } from "../connections";
import { createEventPublisher } from "../events";
import { lazy } from "./lazy";
import { table } from "./table";

/** WebSocket connections, the events pushed to them, and the sessions revocation closes. */
export const realtime = lazy(() => {
  const connections = createConnectionStore(table().options);
  // Pushes and disconnects go through the @connections API (AGENTORG_WS_ENDPOINT).
  const pusher = () => createPusher(managementEndpoint());
  return {
    connections,
    events: createEventPublisher({ connections, pusher }),
    sessions: createSessions({ connections, pusher }),
  };
});
