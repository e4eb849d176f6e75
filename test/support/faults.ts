import { createServer } from "node:net";

/**
 * Helpers of the fault-injection suite (test/faults/): a burst of writes that records every answer,
 * and readers that list what a tenant holds and what its audit log says, through the public API.
 */

export interface Api {
  apiUrl: string;
}

export interface Outcome {
  status: number;
  /** The ticket's id when it was acknowledged (201). */
  id?: string;
  /** A transport error (the request got no HTTP answer at all). */
  error?: string;
  retryAfter?: string | null;
  code?: string;
}

async function request(api: Api, path: string, key: string, init: { method?: string; body?: unknown } = {}) {
  const response = await fetch(`${api.apiUrl}${path}`, {
    method: init.method ?? "GET",
    headers: { authorization: `Bearer ${key}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body };
}

/**
 * Ticket creation in `lanes` concurrent loops until `stop()`; every answer is kept. A lane that got
 * a 503 waits its Retry-After (capped), as a well-behaved client would.
 */
export function ticketBurst(api: () => Api, key: string, lanes = 6) {
  const outcomes: Outcome[] = [];
  let running = true;
  let n = 0;
  const done = Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      while (running) {
        const title = `burst ${lane}-${(n += 1)}`;
        try {
          const r = await request(api(), "/tickets", key, { method: "POST", body: { type: "incident", title } });
          outcomes.push({ status: r.status, ...(r.status === 201 ? { id: r.body.id } : {}), retryAfter: r.headers.get("retry-after"), ...(r.body?.code ? { code: r.body.code } : {}) });
          if (r.status === 503 || r.status === 429) await sleep(Math.min(1_000, Number(r.headers.get("retry-after") ?? 1) * 1000));
        } catch (error) {
          outcomes.push({ status: 0, error: String(error) });
          await sleep(200);
        }
      }
    }),
  );
  return {
    outcomes,
    acknowledged: () => outcomes.filter((o) => o.status === 201).map((o) => o.id!),
    async stop() {
      running = false;
      await done;
    },
  };
}

/** Every ticket id of the key's organization (all pages). */
export async function allTicketIds(api: Api, key: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await request(api, `/tickets?limit=100${cursor ? `&cursor=${cursor}` : ""}`, key);
    if (page.status !== 200) throw new Error(`list tickets: ${page.status}`);
    ids.push(...page.body.items.map((t: { id: string }) => t.id));
    cursor = page.body.cursor;
  } while (cursor);
  return ids;
}

/** Every audit entry of the key's organization, oldest first. */
export async function allAuditEntries(api: Api, key: string): Promise<{ seq: number; action: string; entity: { type: string; id: string }; source: { eventId: string } }[]> {
  const entries = [];
  let cursor: string | undefined;
  do {
    const page = await request(api, `/audit/entries?fromSeq=1&limit=100${cursor ? `&cursor=${cursor}` : ""}`, key);
    if (page.status !== 200) throw new Error(`list audit entries: ${page.status}`);
    entries.push(...page.body.items);
    cursor = page.body.cursor;
  } while (cursor);
  return entries;
}

/** How many `insert ticket` entries each ticket id has. */
export async function ticketInsertsAudited(api: Api, key: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const e of await allAuditEntries(api, key)) {
    if (e.entity.type === "ticket" && e.action === "insert") counts.set(e.entity.id, (counts.get(e.entity.id) ?? 0) + 1);
  }
  return counts;
}

export async function verifyLog(api: Api, key: string) {
  return (await request(api, "/audit/verify", key)).body;
}

export async function health(api: Api): Promise<{ status: number; body: any }> {
  try {
    const r = await request(api, "/health", "none");
    return { status: r.status, body: r.body };
  } catch (error) {
    return { status: 0, body: String(error) };
  }
}

/** Polls until `check` returns a value (not undefined), or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether a process is alive. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
