import { describe, expect, it } from "vitest";
import { createChannel, delegationsOf } from "../../../core/agents/channel";
import type { ChatTurnResult } from "../../../core/agents/runtime";
import type { OrgEvent } from "../../../core/realtime/events";
import type { Organization } from "../../../core/tenants/organization.schema";

/*
 * The channel turn (core/agents/channel.ts) on its own: frame order, coalescing, the organization
 * channel's root agent. The runtime here is a scripted stand-in that streams given pieces: the real
 * runtime, model and WebSocket path are covered end to end in test/integration/websocket.test.ts.
 */
const ORG = { id: "org1" } as Organization;
const caller = { principal: { kind: "org" as const, orgId: "org1", keyId: "k1" }, org: ORG, actor: "key:k1" };
const result = (reply: string): ChatTurnResult => ({ runId: "run1", agentId: "a1", reply, model: "m", tier: "slm", offline: true, usage: { inputTokens: 1, outputTokens: 2, costUsd: 0 }, steps: [] });

function setup(pieces: { text: string; waitMs: number }[], { root = "ceo", fail = false } = {}) {
  const frames: Record<string, unknown>[] = [];
  const published: OrgEvent[] = [];
  const channel = createChannel({
    agents: { tree: async () => ({ roots: root ? [{ id: root, managerId: null }] : [] }) as never },
    runtime: {
      async chat(_principal, agentId, _message, onDelta) {
        for (const piece of pieces) {
          await new Promise((r) => setTimeout(r, piece.waitMs));
          onDelta?.(piece.text);
        }
        if (fail) throw new Error("model failed");
        return { ...result(pieces.map((p) => p.text).join("")), agentId };
      },
    },
    events: { publish: async (event) => void published.push(event) },
    flushMs: 30,
  });
  const send = async (frame: Record<string, unknown>) => void frames.push(frame);
  return { channel, frames, published, send };
}

describe("the channel turn", () => {
  it("sends the first piece at once, coalesces the rest, and ends with chat.done", async () => {
    const { channel, frames, send } = setup([
      { text: "Hel", waitMs: 0 },
      { text: "lo", waitMs: 0 },
      { text: " wor", waitMs: 0 },
      { text: "ld", waitMs: 60 },
    ]);
    await channel.turn(caller, { agentId: "a1", message: "hi", id: "f1" }, send);
    const deltas = frames.filter((f) => f.type === "chat.delta");
    expect(deltas[0]).toEqual({ type: "chat.delta", id: "f1", agentId: "a1", delta: "Hel" });
    // Four pieces, fewer frames: the two sent together were coalesced.
    expect(deltas.length).toBeLessThan(4);
    expect(deltas.map((d) => d.delta).join("")).toBe("Hello world");
    expect(frames.at(-1)).toMatchObject({ type: "chat.done", id: "f1", agentId: "a1", reply: "Hello world", steps: 0, runId: "run1" });
  });

  it("the organization channel is answered by the root agent and seen by the organization", async () => {
    const { channel, frames, published, send } = setup([{ text: "ok", waitMs: 0 }]);
    await channel.turn(caller, { message: "status?" }, send);
    expect(frames.at(-1)).toMatchObject({ type: "chat.done", agentId: "ceo" });
    expect(published).toEqual([expect.objectContaining({ type: "channel.message", orgId: "org1", data: { from: "key:k1", message: "status?", reply: "ok", agentId: "ceo" } })]);
  });

  it("without a root agent the organization channel is a clear 400, and a direct chat publishes nothing", async () => {
    const { channel, send, published } = setup([], { root: "" });
    await expect(channel.turn(caller, { message: "anyone?" }, send)).rejects.toMatchObject({ code: "no_root_agent" });
    expect(published).toEqual([]);
  });

  it("a turn that fails midway still sends what streamed, and no chat.done", async () => {
    const { channel, frames, send } = setup([{ text: "partial", waitMs: 0 }, { text: " more", waitMs: 0 }], { fail: true });
    await expect(channel.turn(caller, { agentId: "a1", message: "hi" }, send)).rejects.toThrow("model failed");
    expect(frames.map((f) => f.delta).join("")).toBe("partial more");
    expect(frames.some((f) => f.type === "chat.done")).toBe(false);
  });
});

describe("delegationsOf", () => {
  const step = (calls: { name: string; ok: boolean; result: string }[]) => ({ n: 1, model: "m", tier: "slm" as const, content: "", inputTokens: 0, outputTokens: 0, costMicroUsd: 0, toolCalls: calls.map((c) => ({ ...c, arguments: "{}" })) });

  it("lists the delegations a turn queued, in order, and nothing else", () => {
    const steps = [
      step([
        { name: "delegate_task", ok: true, result: JSON.stringify({ messageId: "m1", status: "queued", to: "a2" }) },
        { name: "escalate", ok: true, result: JSON.stringify({ messageId: "m2", to: "a0" }) },
        { name: "delegate_task", ok: false, result: JSON.stringify({ error: { code: "forbidden" } }) },
      ]),
      step([{ name: "delegate_task", ok: true, result: JSON.stringify({ messageId: "m3", status: "queued", to: "a3" }) }]),
      // A result clipped for the record is not JSON: skipped, not a failure of the turn.
      step([{ name: "delegate_task", ok: true, result: '{"messageId":"m4","to":"a…' }]),
    ];
    expect(delegationsOf({ steps })).toEqual([{ messageId: "m1", to: "a2" }, { messageId: "m3", to: "a3" }]);
  });
});
