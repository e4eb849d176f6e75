import { invalidInput } from "../../core/errors";
import { ChatFrame } from "../manifest/realtime";
import { agentRuntime } from "../lib/services/agent-runtime";
import { agents } from "../lib/services/agents";
import { realtime } from "../lib/services/realtime";
import { wsAction } from "../lib/ws";

/** Coalesce streamed text into frames this often: each frame is one @connections call in AWS. */
const FLUSH_MS = 40;

/**
 * `chat`: a chat turn with an agent (or, without agentId, the organization channel, answered by the
 * root agent) streamed back as `chat.delta` frames and closed by `chat.done` with the model, tier and
 * usage. Errors come back as an `error` frame; the connection stays open.
 */
export const handler = wsAction(async ({ frame, connectionId, pusher, connection, principal, org, deadline }) => {
  const parsed = ChatFrame.safeParse(frame);
  if (!parsed.success) throw invalidInput("Invalid chat frame.", parsed.error.issues.map((i) => ({ field: i.path.join(".") || "(frame)", message: i.message })));
  const { agentId, message, id } = parsed.data;

  let target = agentId;
  if (!target) {
    const tree = await agents().tree(connection.orgId);
    target = tree.roots.find((r) => r.managerId === null)?.id;
    if (!target) throw invalidInput("The organization channel is answered by the root (CEO) agent: create one first.", [{ field: "agentId", message: "required while the organization has no root agent" }], "no_root_agent");
  }

  let buffer = "";
  let timer: NodeJS.Timeout | undefined;
  let sending = Promise.resolve();
  const flush = () => {
    timer = undefined;
    if (!buffer) return;
    const delta = buffer;
    buffer = "";
    sending = sending.then(() => pusher.post(connectionId, { type: "chat.delta", ...(id ? { id } : {}), agentId: target, delta }).then(() => undefined));
  };
  let sentFirst = false;
  const result = await agentRuntime().chat(
    principal,
    target,
    message,
    (text) => {
      buffer += text;
      // The first piece goes out at once (time to first token is what a person feels); later ones are coalesced.
      if (!sentFirst) {
        sentFirst = true;
        flush();
      } else timer ??= setTimeout(flush, FLUSH_MS);
    },
    // Every model call of the turn (tool loop, delegations) shares the invocation's one deadline; the
    // organization is the credential check's (no second read).
    { org, ...(deadline !== undefined ? { deadline } : {}) },
  );
  if (timer) clearTimeout(timer);
  flush();
  await sending;
  const done = { type: "chat.done", ...(id ? { id } : {}), agentId: target, reply: result.reply, model: result.model, tier: result.tier, offline: result.offline, usage: result.usage, steps: result.steps.length, runId: result.runId };
  await pusher.post(connectionId, done);
  if (!agentId) {
    await realtime().events.publish({ type: "channel.message", orgId: connection.orgId, time: new Date().toISOString(), data: { from: connection.actor, message, reply: result.reply, agentId: target } });
  }
});
