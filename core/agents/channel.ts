import { invalidInput } from "../errors";
import type { Principal } from "../auth/principal";
import type { EventPublisher } from "../realtime/events";
import type { Organization } from "../tenants/organization.schema";
import type { AgentService } from "./agent-service";
import type { AgentRuntime, ChatTurnResult } from "./runtime";

/** How often streamed text is coalesced into a frame: in AWS each frame is one @connections call. */
export const FLUSH_MS = 40;

/** A delegation a turn made: the delegated message (a task on the work queue) and its recipient. */
export interface Delegation {
  messageId: string;
  to: string;
}

/**
 * The delegations a turn's tool calls made (`delegate_task` answered `{ messageId, to }`): what the chat
 * follows afterwards, as the delegated tasks are worked and their reports come back.
 */
export function delegationsOf(result: Pick<ChatTurnResult, "steps">): Delegation[] {
  const found: Delegation[] = [];
  for (const step of result.steps) {
    for (const call of step.toolCalls) {
      if (call.name !== "delegate_task" || !call.ok) continue;
      try {
        const { messageId, to } = JSON.parse(call.result) as { messageId?: unknown; to?: unknown };
        if (typeof messageId === "string" && typeof to === "string") found.push({ messageId, to });
      } catch {
        // A result clipped for the record is not JSON any more: that delegation is not followed here.
      }
    }
  }
  return found;
}

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
 * `flushMs`, in order, and the turn ends with one `chat.done` frame (model, tier, usage, steps, and the
 * delegations it queued).
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
          { org: caller.org, conversation: request.agentId ? "agent" : "channel", ...(caller.deadline !== undefined ? { deadline: caller.deadline } : {}) },
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
        // Delegations are tasks of their own: the turn answers at once, and the chat follows them by
        // the message events (`message.updated`, then the report's `message.created`).
        delegations: delegationsOf(result),
      });
      if (!request.agentId) {
        await events.publish({ type: "channel.message", orgId, time: new Date().toISOString(), data: { from: caller.actor, message: request.message, reply: result.reply, agentId: target } });
      }
      return result;
    },
  };
}

export type Channel = ReturnType<typeof createChannel>;
