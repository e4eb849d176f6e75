import { forbidden } from "../../core/errors";
import { actorOf } from "../../core/auth/principal";
import { services, wsHandler } from "../lib/ws";

/**
 * `$connect`: authenticate (an organization API key in `Authorization: Bearer`), record the
 * connection. Refusing here (401/403) means API Gateway never opens the socket.
 */
export const handler = wsHandler(async ({ event, connectionId }) => {
  const principal = await services().authenticate(event.headers?.authorization ?? event.headers?.Authorization);
  if (principal.kind !== "org") throw forbidden("WebSocket connections belong to an organization: use its API key.", "org_key_required");
  await services().connections.put({
    connectionId,
    orgId: principal.orgId,
    actor: actorOf(principal),
    connectedAt: new Date().toISOString(),
    topics: [],
  });
  return { statusCode: 200 };
});
