import { WS_URL } from "../api";
import { type Backoff, RECONNECT_BACKOFF, reconnectDelay } from "./backoff";
import { ApiError, api } from "./client";

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
  /** Tasks the turn delegated (core/agents/channel.ts): worked on the queue after the reply. */
  delegations?: { messageId: string; to: string }[];
}

export interface ChatHandlers {
  delta(text: string): void;
  done(result: ChatDone): void;
  error(message: string): void;
}

/** `stopped`: the key was refused (revoked, or its organization closed); no more reconnecting. */
export type LiveStatus = "connecting" | "live" | "offline" | "stopped";

export interface RealtimeSettings {
  /**
   * A `ping` frame this often (ms) while the socket is open: API Gateway closes a WebSocket after 10
   * minutes without a frame, which would drop a dashboard left open on a quiet organization.
   */
  keepAliveMs: number;
  /** A connection open this long (ms) is stable: losing it later starts the backoff from the beginning. */
  stableMs: number;
  /** Reconnect schedule (./backoff.ts). */
  backoff: Backoff;
}

/** Pings every 4 minutes (well inside the 10-minute idle timeout, even with a timer delayed in a background tab). */
export const REALTIME_DEFAULTS: RealtimeSettings = { keepAliveMs: 4 * 60_000, stableMs: 30_000, backoff: RECONNECT_BACKOFF };

/**
 * Overrides set on the page before the dashboard starts (`window.agentorgRealtime = { keepAliveMs: 200 }`):
 * how the e2e tests shorten the keep-alive instead of waiting minutes. Nothing sets it in normal use.
 */
function pageSettings(): Partial<RealtimeSettings> {
  return (globalThis as { agentorgRealtime?: Partial<RealtimeSettings> }).agentorgRealtime ?? {};
}

type Listener = (event: OrgEvent) => void;

const TOPICS = ["messages", "tickets", "usage", "channel"];

/**
 * One WebSocket per signed-in organization: a short-lived token from `POST /ws-tokens`, then
 * `subscribe` to every topic; chat turns and events share it. Keeps itself alive with `ping` frames,
 * reconnects with capped, jittered exponential backoff (reset once a connection has been stable), and
 * stops for good when the API refuses the key (401/403: revoked, or the organization closed).
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
  private keepAlive: ReturnType<typeof setInterval> | undefined;
  private stable: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  private sequence = 0;
  private readonly settings: RealtimeSettings;
  status: LiveStatus = "connecting";

  constructor(settings: Partial<RealtimeSettings> = pageSettings()) {
    this.settings = { ...REALTIME_DEFAULTS, ...settings };
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
    } catch (error) {
      // The key itself was refused: retrying cannot help, and would only keep knocking.
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        this.stop();
        return;
      }
      this.retry();
      return;
    }
    if (this.closed) return;
    const socket = new WebSocket(`${WS_URL}?token=${encodeURIComponent(token)}`);
    this.socket = socket;
    socket.onopen = () => {
      // Only a connection that lasts resets the backoff: one the server keeps dropping right after
      // opening (a deploy, a flood limit) must not turn into a reconnect loop.
      this.stable = setTimeout(() => (this.retries = 0), this.settings.stableMs);
      this.keepAlive = setInterval(() => {
        if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ action: "ping" }));
      }, this.settings.keepAliveMs);
      socket.send(JSON.stringify({ action: "subscribe", topics: TOPICS }));
      for (const frame of this.outbox.splice(0)) socket.send(frame);
    };
    socket.onmessage = (message) => this.receive(String(message.data));
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.clearTimers();
      for (const id of this.pending.splice(0)) this.chats.get(id)?.error("The live connection was lost before the reply finished.");
      this.chats.clear();
      this.retry();
    };
  }

  private retry(): void {
    if (this.closed) return;
    this.setStatus("offline");
    const delay = reconnectDelay(this.retries++, this.settings.backoff);
    this.timer = setTimeout(() => void this.connect(), delay);
  }

  /** Gives up for good (the key was refused); the next sign-in makes a new Realtime. */
  private stop(): void {
    this.close();
    this.setStatus("stopped");
  }

  private clearTimers(): void {
    clearInterval(this.keepAlive);
    clearTimeout(this.stable);
    this.keepAlive = this.stable = undefined;
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
    this.clearTimers();
    this.socket?.close();
    this.socket = null;
  }
}
