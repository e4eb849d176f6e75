import type { Platform } from "../../local/platform";
import { call } from "./platform";

/** Polls `read` until `done` holds of its value (bounded: throws after `ms`); no timing is asserted. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`Timed out waiting for ${what}; last value: ${JSON.stringify(value).slice(0, 2_000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface MessageView {
  id: string;
  kind: string;
  from: string;
  to: string;
  subject?: string;
  body: string;
  status: string;
  reason?: string;
  inReplyTo?: string;
  reportStatus?: string;
  parentTaskId?: string;
}

/** An agent's inbox, newest first (one page of 100). */
export const inboxOf = async (platform: Platform, key: string, agentId: string): Promise<MessageView[]> =>
  (await call(platform, `/agents/${agentId}/messages?limit=100`, { key })).body.items;

/** The organization's tasks, newest first. */
export const tasksOf = async (platform: Platform, key: string, status?: string): Promise<Record<string, any>[]> =>
  (await call(platform, `/tasks?limit=100${status ? `&status=${status}` : ""}`, { key })).body.items;

/** One message of an inbox, as it is now. */
export const messageIn = async (platform: Platform, key: string, agentId: string, id: string) => (await inboxOf(platform, key, agentId)).find((m) => m.id === id);

export const ENDED = new Set(["done", "failed", "needs_human"]);
