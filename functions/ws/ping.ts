import { invalidInput } from "../../core/errors";
import { Ping } from "../manifest/realtime";
import { wsAction } from "../lib/ws";

/** `ping`: answered with a `pong` frame sent back through the @connections API (the full push path), while the connection's key is valid. */
export const handler = wsAction(async ({ frame, connectionId, pusher }) => {
  const parsed = Ping.safeParse(frame);
  if (!parsed.success) {
    throw invalidInput(
      "Invalid ping frame.",
      parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(frame)", message: i.message })),
    );
  }
  await pusher.post(connectionId, { type: "pong", ...(parsed.data.id ? { id: parsed.data.id } : {}), time: new Date().toISOString() });
});
