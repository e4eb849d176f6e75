import { createChannel } from "../../core/agents/channel";
import { wsRouteKeys } from "../manifest/realtime";
import { agentRuntime } from "../lib/services/agent-runtime";
import { agents } from "../lib/services/agents";
import { lazy } from "../lib/services/lazy";
import { realtime } from "../lib/services/realtime";
import { ws } from "../lib/ws";

const channel = lazy(() => createChannel({ agents: agents(), runtime: agentRuntime(), events: realtime().events }));

/**
 * `chat`: a chat turn with an agent (or, without agentId, the organization channel, answered by the
 * root agent) streamed back as `chat.delta` frames and closed by `chat.done` (core/agents/channel.ts).
 * Errors come back as an `error` frame; the connection stays open.
 */
export const handler = ws(wsRouteKeys.chat, async ({ body, connectionId, pusher, connection, principal, org, deadline }) => {
  await channel().turn({ principal, org, actor: connection.actor, ...(deadline !== undefined ? { deadline } : {}) }, body, (frame) => pusher.post(connectionId, frame));
});
