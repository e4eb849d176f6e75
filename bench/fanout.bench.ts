/**
 * Fan-out: one organization event pushed to 1,000 subscribed WebSocket connections through the
 * platform's publisher (connection lookup in DynamoDB Local, then one @connections POST per
 * connection with the real API Gateway Management API client, bounded concurrency), against a bare
 * loop of `ws.send` on the same server-side sockets, in the same run. Time = until every client has
 * the frame.
 *
 * Run: npm run bench -- fanout   (writes bench/results/fanout.json)
 */
import WebSocket from "ws";
import { startPlatform } from "../local/platform";
import { realtime } from "../functions/lib/services/realtime";
import { median, percentile, printTable, writeResult } from "./lib";

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";

const platform = await startPlatform({ port: 0, tableName: "agentorg-bench", env: { POWERTOOLS_LOG_LEVEL: "SILENT" } });
const headers = { authorization: `Bearer ${platform.operatorKey}`, "content-type": "application/json" };
const org = (await (await fetch(`${platform.apiUrl}/organizations`, { method: "POST", headers, body: JSON.stringify({ name: "Fanout", tier: "enterprise" }) })).json()) as { id: string };
const key = ((await (await fetch(`${platform.apiUrl}/organizations/${org.id}/api-keys`, { method: "POST", headers, body: "{}" })).json()) as { secret: string }).secret;

const clients: WebSocket[] = [];
let received = 0;
let onAll: (() => void) | undefined;
for (let i = 0; i < CONNECTIONS; i += 50) {
  await Promise.all(
    Array.from({ length: Math.min(50, CONNECTIONS - i) }, async () => {
      const ws = new WebSocket(platform.wsUrl, { headers: { authorization: `Bearer ${key}` } });
      await new Promise((resolve, reject) => (ws.once("open", resolve), ws.once("error", reject)));
      ws.on("message", (data) => {
        const frame = JSON.parse(data.toString()) as { type: string };
        if (frame.type === "subscribed") return;
        if (++received === CONNECTIONS) onAll?.();
      });
      ws.send(JSON.stringify({ action: "subscribe", topics: ["messages"] }));
      clients.push(ws);
    }),
  );
}
await new Promise((r) => setTimeout(r, 1000));

async function timed(send: () => Promise<void> | void): Promise<number> {
  received = 0;
  const all = new Promise<void>((resolve) => (onAll = resolve));
  const start = performance.now();
  await send();
  await all;
  return performance.now() - start;
}

const event = { type: "message.created", orgId: org.id, time: new Date().toISOString(), data: { message: { body: "fan-out" } } };
const frame = JSON.stringify({ type: "event", event });
const platformTimes: number[] = [];
const bareTimes: number[] = [];
await timed(() => realtime().events.publish(event)); // warm-up
await timed(() => platform.ws.sockets().forEach((s) => s.send(frame)));
for (let i = 0; i < ROUNDS; i++) {
  platformTimes.push(await timed(() => realtime().events.publish(event)));
  bareTimes.push(await timed(() => platform.ws.sockets().forEach((s) => s.send(frame))));
}

const rows = [
  { path: "platform publisher (@connections API)", connections: CONNECTIONS, "p50 ms": median(platformTimes), "max ms": percentile(platformTimes, 1) },
  { path: "bare ws.send loop", connections: CONNECTIONS, "p50 ms": median(bareTimes), "max ms": percentile(bareTimes, 1) },
];
printTable(rows);
console.log(`ratio p50: ${(median(platformTimes) / median(bareTimes)).toFixed(1)}x`);
writeResult("fanout", { connections: CONNECTIONS, rounds: ROUNDS, platformMs: platformTimes, bareMs: bareTimes, ratioP50: median(platformTimes) / median(bareTimes) });
for (const ws of clients) ws.terminate();
await platform.stop();
process.exit(0);
