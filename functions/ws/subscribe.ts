import { invalidInput, unauthorized } from "../../core/errors";
import { SubscribeFrame } from "../manifest/realtime";
import { realtime } from "../lib/services/realtime";
import { wsAction } from "../lib/ws";

/** `subscribe`: the connection receives the organization's events of these topics as `event` frames. */
export const handler = wsAction(async ({ frame, connectionId, pusher, connection }) => {
  const parsed = SubscribeFrame.safeParse(frame);
  if (!parsed.success) throw invalidInput("Invalid subscribe frame.", parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(frame)", message: i.message })));
  // Only the topics: a connection ended meanwhile (revoked, disconnected) is not written back.
  if (!(await realtime().connections.setTopics(connectionId, connection.orgId, parsed.data.topics))) {
    throw unauthorized("This connection is not registered; reconnect.", "connection_unknown");
  }
  await pusher.post(connectionId, { type: "subscribed", topics: parsed.data.topics });
});
