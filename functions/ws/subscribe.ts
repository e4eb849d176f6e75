import { invalidInput, unauthorized } from "../../core/errors";
import { SubscribeFrame } from "../manifest/realtime";
import { services, wsHandler } from "../lib/ws";

/** `subscribe`: the connection receives the organization's events of these topics as `event` frames. */
export const handler = wsHandler(async ({ frame, connectionId, pusher }) => {
  const parsed = SubscribeFrame.safeParse(frame);
  if (!parsed.success) throw invalidInput("Invalid subscribe frame.", parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(frame)", message: i.message })));
  const connection = await services().connections.find(connectionId);
  if (!connection) throw unauthorized("This connection is not registered; reconnect.", "connection_unknown");
  await services().connections.put({ ...connection, topics: parsed.data.topics });
  await pusher.post(connectionId, { type: "subscribed", topics: parsed.data.topics });
});
