import { invalidInput } from "../errors";
import type { Principal } from "../auth/principal";
import type { EventPublisher } from "../realtime/events";
import type { Organization } from "../tenants/organization.schema";
import type { AgentService } from "./agent-service";
import type { AgentRuntime, ChatTurnResult } from "./runtime";

/** How often streamed text is coalesced into a frame: in AWS each frame is one @connections call. */
export const FLUSH_MS = 40;

/** A chat frame as its route's schema parsed it (functions/manifest/realtime.ts `ChatFrame`). */
export interface ChatRequest {
  agentId?: string | undefined;
  message: string;
  id?: string | undefined;
}

/** Who chats, from where, until when. */
export interface ChatCaller {
  principal: Extract<Principal, { kind: "org" }>;
  /** The organization as the caller's credential check read it (no second read). */
  org: Organization;
  /** The connection's actor (`key:<id>`), named on the organization channel's message. */
  actor: string;
  /** When the invocation ends (epoch ms): every model call of the turn shares it. */
  deadline?: number;
}

export interface ChannelDeps {
  agents: Pick<AgentService, "tree">;
  runtime: Pick<AgentRuntime, "chat">;
  events: EventPublisher;
  flushMs?: number;
}

/**
 * A person's chat turn over the WebSocket channel, whatever carries its frames: with an agent, or
 * without `agentId` on the organization channel, which the root (CEO) agent answers and whose every
 * connection sees the exchange (a `channel.message` event). The reply streams as `chat.delta` frames,
 * the first piece at once (time to first token is what a person feels), later ones coalesced every
 * `flushMs`, in order, and the turn ends with one `chat.done` frame (model, tier, usage, steps).
 */
export function createChannel({ agents, runtime, events, flushMs = FLUSH_MS }: ChannelDeps) {
  async function targetOf(orgId: string, agentId: string | undefined): Promise<string> {
    if (agentId) return agentId;
    const tree = await agents.tree(orgId);
    const root = tree.roots.find((r) => r.managerId === null)?.id;
    if (!root) {
      throw invalidInput("The organization channel is answered by the root (CEO) agent: create one first.", [{ field: "agentId", message: "required while the organization has no root agent" }], "no_root_agent");
    }
    return root;
  }

  return {
    /** Runs the turn, sending its frames through `send` (in order; a failure propagates after the turn). */
    async turn(caller: ChatCaller, request: ChatRequest, send: (frame: Record<string, unknown>) => Promise<unknown>): Promise<ChatTurnResult> {
      const orgId = caller.principal.orgId;
      const target = await targetOf(orgId, request.agentId);
      const echo = request.id ? { id: request.id } : {};

      let buffer = "";
      let timer: NodeJS.Timeout | undefined;
      let sending: Promise<unknown> = Promise.resolve();
      const flush = () => {
        timer = undefined;
        if (!buffer) return;
        const delta = buffer;
        buffer = "";
        sending = sending.then(() => send({ type: "chat.delta", ...echo, agentId: target, delta }));
      };
      let sentFirst = false;
      let result: ChatTurnResult;
      try {
        result = await runtime.chat(
          caller.principal,
          target,
          request.message,
          (text) => {
            buffer += text;
            if (!sentFirst) {
              sentFirst = true;
              flush();
            } else timer ??= setTimeout(flush, flushMs);
          },
          { org: caller.org, ...(caller.deadline !== undefined ? { deadline: caller.deadline } : {}) },
        );
      } finally {
        // A turn that failed midway still sends what streamed before the error frame follows it.
        if (timer) clearTimeout(timer);
        flush();
        await sending.catch(() => undefined);
      }
      await send({
        type: "chat.done",
        ...echo,
        agentId: target,
        reply: result.reply,
        model: result.model,
        tier: result.tier,
        offline: result.offline,
        usage: result.usage,
        steps: result.steps.length,
        runId: result.runId,
      });
      if (!request.agentId) {
        await events.publish({ type: "channel.message", orgId, time: new Date().toISOString(), data: { from: caller.actor, message: request.message, reply: result.reply, agentId: target } });
      }
      return result;
    },
  };
}

export type Channel = ReturnType<typeof createChannel>;
