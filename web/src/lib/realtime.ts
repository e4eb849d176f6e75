import { WS_URL } from "../api";
import { api } from "./client";

/** An organization event pushed to subscribers (`ticket.created`, `message.created`, `usage.updated`, `channel.message`). */
export interface OrgEvent {
  type: string;
  orgId: string;
  time: string;
  data: Record<string, any>;
}

export interface ChatDone {
  reply: string;
  model: string;
  tier: "slm" | "llm";
  offline: boolean;
  agentId: string;
  usage?: { inputTokens?: number; outputTokens?: number };
}

export interface ChatHandlers {
  delta(text: string): void;
  done(result: ChatDone): void;
  error(message: string): void;
}

export type LiveStatus = "connecting" | "live" | "offline";

type Listener = (event: OrgEvent) => void;

const TOPICS = ["messages", "tickets", "usage", "channel"];

/**
 * One WebSocket per signed-in organization: a short-lived token from `POST /ws-tokens`, then
 * `subscribe` to every topic; chat turns and events share it. Reconnects with backoff.
 */
export class Realtime {
  private socket: WebSocket | null = null;
  private listeners = new Set<Listener>();
  private statusListeners = new Set<(status: LiveStatus) => void>();
  private chats = new Map<string, ChatHandlers>();
  private pending: string[] = [];
  private outbox: string[] = [];
  private retries = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private sequence = 0;
  status: LiveStatus = "connecting";

  constructor() {
    void this.connect();
  }

  private setStatus(status: LiveStatus): void {
    this.status = status;
    for (const listener of this.statusListeners) listener(status);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    this.setStatus("connecting");
    let token: string;
    try {
      token = (await api<{ token: string }>("/ws-tokens", { method: "POST" })).token;
    } catch {
      this.retry();
      return;
    }
    if (this.closed) return;
    const socket = new WebSocket(`${WS_URL}?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      this.retries = 0;
      socket.send(JSON.stringify({ action: "subscribe", topics: TOPICS }));
      for (const frame of this.outbox.splice(0)) socket.send(frame);
    };
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const id of this.pending.splice(0)) this.chats.get(id)?.error("The live connection was lost before the reply finished.");
      this.chats.clear();
      this.retry();
    };
  }

  private retry(): void {
    if (this.closed) return;
    this.setStatus("offline");
    const delay = Math.min(15_000, 500 * 2 ** this.retries++);
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  private receive(text: string): void {
    let frame: any;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    switch (frame.type) {
      case "subscribed":
        this.setStatus("live");
        break;
      case "event":
        for (const listener of this.listeners) listener(frame.event as OrgEvent);
        break;
      case "chat.delta":
        this.chats.get(frame.id)?.delta(frame.delta ?? "");
        break;
      case "chat.done": {
        const handlers = this.chats.get(frame.id);
        this.finish(frame.id);
        handlers?.done(frame as ChatDone);
        break;
      }
      case "error": {
        // Error frames carry no chat id: the oldest unfinished chat turn is the one that failed.
        const id = this.pending[0];
        if (id === undefined) break;
        const handlers = this.chats.get(id);
        this.finish(id);
        handlers?.error(frame.problem?.detail ?? "The chat failed.");
        break;
      }
    }
  }

  private finish(id: string): void {
    this.chats.delete(id);
    this.pending = this.pending.filter((p) => p !== id);
  }

  /** Sends a chat turn to an agent, or to the organization channel without `agentId`. */
  chat(agentId: string | undefined, message: string, handlers: ChatHandlers): void {
    const id = `c${++this.sequence}`;
    this.chats.set(id, handlers);
    this.pending.push(id);
    const frame = JSON.stringify({ action: "chat", ...(agentId ? { agentId } : {}), message, id });
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame);
    else this.outbox.push(frame);
  }

  /** Calls `listener` for every organization event; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onStatus(listener: (status: LiveStatus) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.socket?.close();
    this.socket = null;
  }
}
