import { createContext } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import type { ConversationEntry } from "../../../core/agents/agent.schema";
import { Badge, Empty, ErrorNote, Loading, PageHeader } from "../components/ui";
import { agentName, LEVEL_NAMES, loadDirectory, type Directory } from "../lib/agents";
import { api, type Page } from "../lib/client";
import { label } from "../lib/format";
import { html } from "../lib/html";
import { useApp, useEvents, useResource } from "../lib/hooks";
import type { ChatDone } from "../lib/realtime";
import { href } from "../lib/router";

/** A task the agent delegated during a turn, followed live until its report comes back. */
interface Followed {
  messageId: string;
  to: string;
  status: string;
  reason?: string;
  report?: string;
}

interface Turn {
  id: number;
  /** Delegations the reply queued, with their progress. */
  delegations?: Followed[];
  who: "you" | "agent" | "other";
  text: string;
  /** For agent turns: still streaming. */
  streaming?: boolean;
  error?: string;
  done?: ChatDone;
  at: string;
  /** Channel turns of other people: who asked. */
  from?: string;
  agentName?: string;
}

const CHANNEL = "channel";
/**
 * The latest news of recent messages, by the message (or, for a report, the message it answers): a
 * delegated task may start, or even finish, before the reply that delegated it is complete.
 */
const news = new Map<string, Partial<Followed>>();
const NEWS_KEPT = 200;
const ChatContext = createContext<{ directory: Directory | undefined }>({ directory: undefined });
/**
 * Conversations as this tab has them. On first opening one, its last turns are loaded from the server
 * (`GET /conversations`: the API keeps chat transcripts), so a reload or another device shows them.
 */
const transcripts = new Map<string, Turn[]>();
let turnSequence = 0;

function ModelLine({ done }: { done: ChatDone }) {
  return html`<p class="model-line">
    <${Badge} tone=${done.tier}>${done.tier.toUpperCase()}<//>
    <span class="model">${done.model}</span>
    ${done.offline ? html`<${Badge} tone="warn">offline responder<//>` : null}
    ${done.usage ? html`<span class="muted">${(done.usage.inputTokens ?? 0) + (done.usage.outputTokens ?? 0)} tokens</span>` : null}
  </p>`;
}

const FOLLOW_TONE: Record<string, "warn" | "info" | "good" | "bad"> = { queued: "warn", working: "info", done: "good", failed: "bad", needs_human: "warn" };

/** The delegations of a reply: each task's status as it is worked, then the report that came back. */
function Delegations({ items }: { items: Followed[] }) {
  const { directory } = useContext(ChatContext);
  return html`<ul class="delegations" aria-label="Delegated tasks">
    ${items.map(
      (f) => html`<li key=${f.messageId}>
        <span>Delegated to <strong>${agentName(directory, f.to)}</strong></span>
        <${Badge} tone=${FOLLOW_TONE[f.status] ?? "neutral"}>${label(f.status)}<//>
        ${f.reason ? html`<span class="muted">${f.reason}</span>` : null}
        ${f.report ? html`<p class="bubble-text report"><span class="muted">Report: </span>${f.report}</p>` : null}
      </li>`,
    )}
  </ul>`;
}

function Transcript({ turns, busy }: { turns: Turn[]; busy: boolean }) {
  const end = useRef<HTMLDivElement>(null);
  useEffect(() => end.current?.scrollIntoView({ block: "nearest" }), [turns]);
  return html`<div class="transcript" role="log" aria-live="polite" aria-relevant="additions text" aria-busy=${busy} aria-label="Conversation">
    ${turns.length === 0 ? html`<p class="muted empty-chat">No messages yet. Say hello below.</p>` : null}
    ${turns.map(
      (t) => html`<div key=${t.id} class=${`bubble ${t.who}${t.error ? " failed" : ""}`}>
        <p class="bubble-who">${t.who === "you" ? "You" : t.who === "other" ? (t.from ?? "Someone") : (t.agentName ?? "Agent")}</p>
        <p class="bubble-text">${t.text}${t.streaming ? html`<span class="cursor" aria-hidden="true">▍</span>` : null}</p>
        ${t.streaming && !t.text ? html`<p class="muted">Thinking…</p>` : null}
        ${t.error ? html`<p class="form-error">${t.error}</p>` : null}
        ${t.done ? html`<${ModelLine} done=${t.done} />` : null}
        ${t.delegations?.length ? html`<${Delegations} items=${t.delegations} />` : null}
      </div>`,
    )}
    <div ref=${end}></div>
  </div>`;
}

export default function ChatView({ route }: { route: string[] }) {
  const { realtime, session } = useApp();
  const directory = useResource<Directory>((signal) => loadDirectory(signal), []);
  const target = route[1] ?? CHANNEL;
  const [turns, setTurns] = useState<Turn[]>(() => transcripts.get(target) ?? []);
  const [text, setText] = useState("");
  const [status, setStatus] = useState("");
  const input = useRef<HTMLTextAreaElement>(null);
  const targetRef = useRef(target);
  targetRef.current = target;
  useEffect(() => setTurns(transcripts.get(target) ?? []), [target]);
  // The conversation's earlier turns, kept server-side: loaded once per conversation and tab.
  useEffect(() => {
    if (!directory.data || transcripts.has(target)) return;
    const controller = new AbortController();
    api<Page<ConversationEntry>>("/conversations", { query: { limit: 20, ...(target === CHANNEL ? {} : { agentId: target }) }, signal: controller.signal })
      .then((page) => {
        const names = directory.data;
        const earlier = [...page.items].reverse().flatMap((entry): Turn[] => {
          const mine = !entry.askedBy || entry.askedBy === `key:${session.keyId}`;
          const done = { reply: entry.reply, model: entry.model ?? "", tier: entry.tier ?? "slm", offline: entry.offline ?? false, agentId: entry.agentId };
          return [
            mine
              ? { id: ++turnSequence, who: "you", text: entry.message, at: entry.at }
              : { id: ++turnSequence, who: "other", from: entry.askedBy!.replace(/^key:/, "key "), text: entry.message, at: entry.at },
            { id: ++turnSequence, who: "agent", agentName: names?.byId.get(entry.agentId)?.name, text: entry.reply, at: entry.finishedAt, ...(entry.model ? { done } : {}) },
          ];
        });
        // Turns sent while it loaded stay after the earlier ones.
        update(target, (list) => [...earlier, ...list]);
      })
      .catch(() => {
        // Not fatal: the conversation starts empty, as it would without a transcript.
        if (!controller.signal.aborted && !transcripts.has(target)) transcripts.set(target, []);
      });
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [target, directory.data]);
  const update = (key: string, change: (turns: Turn[]) => Turn[]) => {
    const next = change(transcripts.get(key) ?? []);
    transcripts.set(key, next);
    if (key === targetRef.current) setTurns(next);
  };
  const busy = turns.some((t) => t.streaming);
  const d = directory.data;
  const agent = target === CHANNEL ? undefined : d?.byId.get(target);
  const root = d?.agents.find((a) => a.managerId === null);

  // The organization channel: what others asked and the root agent answered.
  useEvents(["channel.message"], (event) => {
    const { message, reply, from, agentId } = event.data as { message: string; reply: string; from: string; agentId: string };
    const mine = (transcripts.get(CHANNEL) ?? []).some((t) => t.who === "you" && t.text === message);
    if (mine && session.keyId && from === `key:${session.keyId}`) return;
    const name = d?.byId.get(agentId)?.name;
    update(CHANNEL, (list) => [
      ...list,
      { id: ++turnSequence, who: "other", from: from.replace(/^key:/, "key "), text: message, at: event.time },
      { id: ++turnSequence, who: "agent", agentName: name, text: reply, at: event.time },
    ]);
  });

  // Delegated tasks: their status as the work queue works them, then their reports (issue 12).
  useEvents(["message."], (event) => {
    const message = (event.data as { message?: { id: string; kind: string; status: string; reason?: string; inReplyTo?: string; body: string; reportStatus?: string } }).message;
    if (!message) return;
    const followed = message.kind === "report" ? message.inReplyTo : message.id;
    if (!followed) return;
    const change: Partial<Followed> =
      message.kind === "report"
        ? { ...(message.reportStatus ? { status: message.reportStatus } : {}), report: message.body }
        : { status: message.status, ...(message.reason ? { reason: message.reason } : {}) };
    // A report is final: a late status event of its task must not overwrite what it says.
    const known = news.get(followed);
    news.delete(followed);
    news.set(followed, known?.report ? { ...change, ...known } : { ...known, ...change });
    while (news.size > NEWS_KEPT) news.delete(news.keys().next().value as string);
    for (const [key, list] of transcripts) {
      if (!list.some((t) => t.delegations?.some((f) => f.messageId === followed))) continue;
      update(key, (turns) =>
        turns.map((t) =>
          t.delegations?.some((f) => f.messageId === followed)
            ? {
                ...t,
                delegations: t.delegations.map((f) => (f.messageId === followed ? { ...f, ...news.get(followed) } : f)),
              }
            : t,
        ),
      );
    }
  });

  function send(event: Event) {
    event.preventDefault();
    const message = text.trim();
    if (!message || !realtime || busy) return;
    const key = target;
    const replyId = ++turnSequence;
    const name = key === CHANNEL ? root?.name : agent?.name;
    update(key, (list) => [
      ...list,
      { id: ++turnSequence, who: "you", text: message, at: new Date().toISOString() },
      { id: replyId, who: "agent", agentName: name, text: "", streaming: true, at: new Date().toISOString() },
    ]);
    setText("");
    setStatus(`Message sent to ${name ?? "the agent"}; the reply is streaming.`);
    const patch = (change: Partial<Turn> | ((t: Turn) => Partial<Turn>)) =>
      update(key, (list) => list.map((t) => (t.id === replyId ? { ...t, ...(typeof change === "function" ? change(t) : change) } : t)));
    realtime.chat(key === CHANNEL ? undefined : key, message, {
      delta: (piece) => patch((t) => ({ text: t.text + piece })),
      done: (result) => {
        patch({
          text: result.reply,
          streaming: false,
          done: result,
          ...(result.delegations?.length ? { delegations: result.delegations.map((d) => ({ ...d, status: "queued", ...news.get(d.messageId) })) } : {}),
        });
        setStatus(`Reply complete from ${name ?? "the agent"}: ${result.model} (${result.tier.toUpperCase()}${result.offline ? ", offline responder" : ""}).`);
        input.current?.focus();
      },
      error: (message) => {
        patch({ streaming: false, error: message });
        setStatus(`The reply failed: ${message}`);
      },
    });
  }

  const title = target === CHANNEL ? "Organization channel" : (agent?.name ?? "Chat");
  return html`<${ChatContext.Provider} value=${{ directory: d }}><div class="view">
    <${PageHeader} title="Chat" />
    ${directory.error ? html`<${ErrorNote} error=${directory.error} retry=${directory.reload} title="The agents could not be loaded." />` : null}
    ${!d && directory.loading ? html`<${Loading} label="Loading agents…" />` : null}
    ${d
      ? html`<div class="split chat-layout">
          <nav class="card conversations" aria-label="Conversations">
            <ul>
              <li><a href=${href("chat")} aria-current=${target === CHANNEL ? "page" : undefined}><strong>Organization channel</strong><span class="muted">answered by ${root?.name ?? "the root agent"}</span></a></li>
              ${d.agents.map(
                (a) => html`<li key=${a.id}><a href=${href("chat", a.id)} aria-current=${target === a.id ? "page" : undefined}>${a.name}<span class="muted">${LEVEL_NAMES[a.level]}</span></a></li>`,
              )}
            </ul>
          </nav>
          <section class="card chat-panel" aria-labelledby="chat-title">
            <h2 id="chat-title">${title}</h2>
            ${target !== CHANNEL && !agent
              ? html`<${Empty}>That agent does not exist (any more). Pick another conversation.<//>`
              : target === CHANNEL && !root
                ? html`<${Empty}>The organization channel is answered by the root (CEO) agent. <a href=${href("agents")}>Create one first</a>.<//>`
                : html`
                    <${Transcript} turns=${turns} busy=${busy} />
                    <p class="visually-hidden" role="status" aria-live="polite">${status}</p>
                    <form class="composer" onSubmit=${send}>
                      <label for="chat-input" class="visually-hidden">Message to ${title}</label>
                      <textarea
                        id="chat-input"
                        ref=${input}
                        rows="2"
                        placeholder=${`Message ${title}…`}
                        value=${text}
                        onInput=${(e: Event) => setText((e.target as HTMLTextAreaElement).value)}
                        onKeyDown=${(e: KeyboardEvent) => {
                          if (e.key === "Enter" && !e.shiftKey) send(e);
                        }}
                      ></textarea>
                      <button type="submit" disabled=${busy || !text.trim()}>${busy ? "Replying…" : "Send"}</button>
                    </form>
                    <p class="hint">Enter sends, Shift+Enter starts a new line. Replies stream over the WebSocket and show the model and tier that answered.</p>
                  `}
          </section>
        </div>`
      : null}
  </div><//>`;
}
