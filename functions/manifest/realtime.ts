import { z } from "../../core/shared/zod";
import { wsRoute } from "../manifest.types";

export const Ping = z.strictObject({ action: z.literal("ping"), id: z.string().max(100).optional() }).meta({ id: "PingFrame" });

export const wsRouteKeys = {
  connect: wsRoute({
    routeKey: "$connect",
    handler: "functions/ws/connect.handler",
    summary: "Authenticate the caller and record the connection",
    permissions: ["table:read", "table:write"],
  }),
  disconnect: wsRoute({
    routeKey: "$disconnect",
    handler: "functions/ws/disconnect.handler",
    summary: "Forget the connection",
    permissions: ["table:read", "table:write"],
  }),
  ping: wsRoute({
    routeKey: "ping",
    handler: "functions/ws/ping.handler",
    summary: "Answer with a pong frame through the @connections API",
    body: Ping,
    permissions: ["connections:manage"],
  }),
  default: wsRoute({
    routeKey: "$default",
    handler: "functions/ws/default.handler",
    summary: "A frame without a known action: an error frame, the connection stays open",
    permissions: ["connections:manage"],
  }),
} as const;

