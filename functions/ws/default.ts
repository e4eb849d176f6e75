import { invalidInput } from "../../core/errors";
import { wsRouteKeys } from "../manifest/realtime";
import { wsAction } from "../lib/ws";

const actions = Object.values(wsRouteKeys)
  .map((r) => r.routeKey)
  .filter((key) => !key.startsWith("$"));

/** `$default`: a frame that is not JSON or names no known action. The connection stays open. */
export const handler = wsAction(async ({ frame }) => {
  const action = (frame as { action?: unknown } | undefined)?.action;
  throw invalidInput(
    frame === undefined
      ? "Frames must be JSON objects with an `action` field."
      : `Unknown action ${JSON.stringify(action ?? null)}. Known actions: ${actions.join(", ")}.`,
    [{ field: "action", message: `must be one of: ${actions.join(", ")}` }],
    "unknown_action",
  );
});
