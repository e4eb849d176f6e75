import { useState } from "preact/hooks";
import type { MessageRecord } from "../../../core/agents/agent.schema";
import { allowedRecipients, buildTree, type MessageKind } from "../../../core/agents/hierarchy";
import { Badge, Empty, ErrorNote, Loading, Notice, PageHeader } from "../components/ui";
import { agentName, loadDirectory, type Directory } from "../lib/agents";
import { api, describeError, type Page } from "../lib/client";
import { dateTime, label } from "../lib/format";
import { html } from "../lib/html";
import { useAction, useEvents, useResource } from "../lib/hooks";
import { navigate } from "../lib/router";

const value = (e: Event) => (e.target as HTMLInputElement).value;
const KIND_HELP: Record<string, string> = {
  direct: "to any agent",
  delegate: "down to an agent in the sender's subtree",
  escalate: "up to the sender's manager",
  broadcast: "to every direct report",
};

/** Messages between agents: every inbox merged (or one agent's), newest first, live. */
async function loadLog(directory: Directory, agentId: string | null, signal: AbortSignal): Promise<MessageRecord[]> {
  const ids = agentId ? [agentId] : directory.agents.map((a) => a.id);
  const pages = await Promise.all(ids.map((id) => api<Page<MessageRecord>>(`/agents/${id}/messages`, { query: { limit: 50 }, signal })));
  return pages.flatMap((p) => p.items).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

function SendMessage({ directory, onSent }: { directory: Directory; onSent: (text: string) => void }) {
  const [from, setFrom] = useState(directory.agents[0]?.id ?? "");
  const [kind, setKind] = useState<MessageKind>("delegate");
  const [to, setTo] = useState("");
  // The server's own rule (core/agents/hierarchy.ts), so the form offers only recipients it accepts.
  const recipients = allowedRecipients(buildTree(directory.agents), kind, from);
  const chosen = recipients.some((a) => a.id === to) ? to : "";
  const blocked = (kind === "delegate" || kind === "escalate") && recipients.length === 0;
  const placeholder =
    kind === "broadcast"
      ? "All direct reports"
      : kind === "escalate"
        ? recipients.length ? "The manager" : "No manager: cannot escalate"
        : kind === "delegate" && !recipients.length
          ? "No reports to delegate to"
          : "Choose an agent";
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  const send = useAction(async () => {
    const result = await api<{ items: MessageRecord[] }>(`/agents/${from}/messages`, {
      method: "POST",
      body: { kind, body, ...(subject ? { subject } : {}), ...(chosen && kind !== "broadcast" ? { to: chosen } : {}) },
    });
    setBody("");
    setSubject("");
    onSent(`Sent: ${result.items.length} message(s) delivered.`);
  });
  return html`<form class="card form" aria-labelledby="send-title" onSubmit=${(e: Event) => (e.preventDefault(), void send.run())}>
    <h2 id="send-title">Send a message as an agent</h2>
    <div class="grid4">
      <div class="field"><label for="msg-from">From</label><select id="msg-from" value=${from} onChange=${(e: Event) => setFrom(value(e))}>${directory.agents.map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select></div>
      <div class="field"><label for="msg-kind">Kind</label><select id="msg-kind" aria-describedby="msg-kind-help" value=${kind} onChange=${(e: Event) => setKind(value(e) as MessageKind)}>${Object.keys(KIND_HELP).map((k) => html`<option value=${k}>${label(k)}</option>`)}</select>
        <span class="hint" id="msg-kind-help">${label(kind)}: ${KIND_HELP[kind]}</span></div>
      <div class="field"><label for="msg-to">To</label><select id="msg-to" value=${chosen} disabled=${kind === "broadcast" || blocked} onChange=${(e: Event) => setTo(value(e))}>
        <option value="">${placeholder}</option>
        ${recipients.map((a) => html`<option value=${a.id}>${a.name}</option>`)}
      </select></div>
      <div class="field"><label for="msg-subject">Subject (optional)</label><input id="msg-subject" maxlength="200" value=${subject} onInput=${(e: Event) => setSubject(value(e))} /></div>
    </div>
    <div class="field"><label for="msg-body">Message</label><textarea id="msg-body" rows="2" required value=${body} onInput=${(e: Event) => setBody(value(e))}></textarea></div>
    ${send.error ? html`<p class="form-error" role="alert">${describeError(send.error)}</p>` : null}
    <button type="submit" disabled=${send.busy || !body.trim() || !from || blocked}>${send.busy ? "Sending…" : "Send"}</button>
  </form>`;
}

const STATUS_TONE: Record<string, string> = { queued: "warn", done: "good" };

/** A message's status with the next steps a reader takes: mark it read, mark it done (PATCH on the recipient's inbox). */
function MessageStatus({ message, onChange }: { message: MessageRecord; onChange: (m: MessageRecord) => void }) {
  const mark = useAction(async (status: "read" | "done") => {
    onChange(await api<MessageRecord>(`/agents/${message.to}/messages/${message.id}`, { method: "PATCH", body: { status } }));
  });
  const what = message.subject ?? message.body.slice(0, 40);
  return html`<div class="status-cell">
    <${Badge} tone=${STATUS_TONE[message.status] ?? "neutral"}>${message.status}<//>
    ${message.status === "queued" || message.status === "delivered"
      ? html`<button type="button" class="secondary small" disabled=${mark.busy} aria-label=${`Mark read: ${what}`} onClick=${() => void mark.run("read")}>Mark read</button>`
      : null}
    ${message.status !== "done"
      ? html`<button type="button" class="secondary small" disabled=${mark.busy} aria-label=${`Mark done: ${what}`} onClick=${() => void mark.run("done")}>Mark done</button>`
      : null}
    ${mark.error ? html`<span class="form-error" role="alert">${describeError(mark.error)}</span>` : null}
  </div>`;
}

export default function MessagesView({ route }: { route: string[] }) {
  const agentId = route[1] ?? null;
  const directory = useResource((signal) => loadDirectory(signal), []);
  const log = useResource(async (signal) => (directory.data ? loadLog(directory.data, agentId, signal) : undefined), [directory.data, agentId]);
  const [notice, setNotice] = useState<string | null>(null);
  const [composing, setComposing] = useState(false);
  useEvents(["message.created"], (event) => {
    const message = (event.data as { message: MessageRecord }).message;
    if (agentId && message.to !== agentId) return;
    log.set((list) => (list && !list.some((m) => m.id === message.id) ? [message, ...list] : list));
  });
  const d = directory.data;
  const messages = log.data;
  const error = directory.error ?? log.error;
  return html`<div class="view">
    <${PageHeader} title="Messages">
      <button type="button" aria-expanded=${composing} onClick=${() => setComposing(!composing)}>${composing ? "Close form" : "Send a message"}</button>
    <//>
    <${Notice} message=${notice} />
    ${composing && d ? html`<${SendMessage} directory=${d} onSent=${(t: string) => (setNotice(t), log.reload())} />` : null}
    ${error ? html`<${ErrorNote} error=${error} retry=${() => (directory.reload(), log.reload())} title="The message log could not be loaded." />` : null}
    ${d
      ? html`<div class="toolbar">
          <label for="log-agent">Agent</label>
          <select id="log-agent" value=${agentId ?? ""} onChange=${(e: Event) => (value(e) ? navigate("messages", value(e)) : navigate("messages"))}>
            <option value="">All agents</option>
            ${d.agents.map((a) => html`<option value=${a.id}>${a.name}</option>`)}
          </select>
          <span class="muted">${agentId ? "This agent's inbox" : "Every agent's inbox, newest first"} · new messages appear live</span>
        </div>`
      : null}
    ${!messages && (log.loading || directory.loading) ? html`<${Loading} label="Loading messages…" />` : null}
    ${messages && messages.length === 0 ? html`<${Empty}>No messages between agents yet. Agents send them when they delegate or escalate work, or use <strong>Send a message</strong>.<//>` : null}
    ${messages && messages.length
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Message log">
          <table class="table">
            <caption class="visually-hidden">Messages between agents</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">From</th><th scope="col">To</th><th scope="col">Message</th><th scope="col">Status</th></tr></thead>
            <tbody>
              ${messages.map(
                (m) => html`<tr key=${m.id}>
                  <td class="nowrap">${dateTime(m.createdAt)}</td>
                  <td><${Badge} tone="info">${m.kind}<//></td>
                  <td>${agentName(d, m.from)}</td>
                  <td>${agentName(d, m.to)}${m.path.length > 2 ? html`<span class="muted"> via ${m.path.slice(1, -1).map((id) => agentName(d, id)).join(", ")}</span>` : null}</td>
                  <td>${m.subject ? html`<strong>${m.subject}</strong> · ` : null}${m.body}</td>
                  <td><${MessageStatus} message=${m} onChange=${(next: MessageRecord) => log.set((list) => list?.map((x) => (x.id === next.id ? next : x)))} /></td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`
      : null}
  </div>`;
}
