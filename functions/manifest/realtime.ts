import { z } from "../../core/shared/zod";
import { idSchema } from "../../core/shared/id.schema";
import { type StreamConsumerSpec, wsRoute } from "../manifest.types";

export const Ping = z.strictObject({ action: z.literal("ping"), id: z.string().max(100).optional() }).meta({ id: "PingFrame" });

export const ChatFrame = z
  .strictObject({
    action: z.literal("chat"),
    agentId: idSchema("must be an agent id").optional().meta({ description: "Omit for the organization-wide channel" }),
    message: z.string().trim().min(1, "must not be empty").max(20_000),
    id: z.string().max(100).optional().meta({ description: "Echoed in chat.delta/chat.done frames" }),
  })
  .meta({ id: "ChatFrame" });

export const TOPICS = ["messages", "tickets", "usage", "channel"] as const;

export const SubscribeFrame = z
  .strictObject({
    action: z.literal("subscribe"),
    topics: z.array(z.enum(TOPICS)).min(1).max(TOPICS.length).default([...TOPICS]),
  })
  .meta({ id: "SubscribeFrame" });

export const wsRouteKeys = {
  connect: wsRoute({
    routeKey: "$connect",
    handler: "functions/ws/connect.handler",
    summary: "Authenticate (?token= from POST /api/v1/ws-tokens, or an organization key header) and record the connection",
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
  subscribe: wsRoute({
    routeKey: "subscribe",
    handler: "functions/ws/subscribe.handler",
    summary: "Receive organization events (messages, tickets, usage, channel) as `event` frames",
    body: SubscribeFrame,
    permissions: ["table:read", "table:write", "connections:manage"],
  }),
  chat: wsRoute({
    routeKey: "chat",
    handler: "functions/ws/chat.handler",
    summary: "Chat with an agent (or the organization channel): chat.delta frames as the reply streams, then chat.done",
    body: ChatFrame,
    permissions: ["table:read", "table:write", "connections:manage", "models:keys"],
  }),
  default: wsRoute({
    routeKey: "$default",
    handler: "functions/ws/default.handler",
    summary: "A frame without a known action: an error frame, the connection stays open",
    permissions: ["connections:manage"],
  }),
} as const;

/**
 * The backstop of revocation: a key that becomes revoked, or an organization that becomes closed, has
 * its WebSocket connections closed by this consumer too. The revoking request closes them itself at
 * once; this covers a request that died after its write (the stream retries until it is done).
 */
export const revocationConsumer: StreamConsumerSpec = {
  name: "revocations",
  handler: "functions/stream/revocations.handler",
  filterPatterns: [
    { eventName: ["MODIFY"], dynamodb: { NewImage: { entity: { S: ["apiKey"] }, revokedAt: { S: [{ exists: true }] } } } },
    { eventName: ["MODIFY"], dynamodb: { NewImage: { entity: { S: ["organization"] }, status: { S: ["closed"] } } } },
  ],
  batchSize: 100,
  permissions: ["table:read", "table:write", "connections:manage"],
};
