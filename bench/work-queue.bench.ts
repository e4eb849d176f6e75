/**
 * The agents' work queue locally (docs/agents-work.md): N delegations posted over the REST API from a
 * CEO agent to a senior manager, each worked as its own task through the table's stream (outbox), the
 * local SQS queue and the worker, with a fake model server answering at once. Reports tasks per second
 * from the first post to the last task done, and the time from a message's write to its worker's claim
 * (the task's `createdAt` -> `startedAt`: the first step of its worker), p50/p95.
 *
 * Run: npm run bench -- work-queue   (writes bench/results/work-queue.json; BENCH_N, default 100)
 */
import { startPlatform } from "../local/platform";
import { startFakeOpenAI } from "../test/support/fake-openai";
import { percentile, printTable, writeResult } from "./lib";

const N = Number(process.env.BENCH_N ?? 100);
const fake = await startFakeOpenAI();
fake.respond(() => "done");
const platform = await startPlatform({
  port: 0,
  tableName: "agentorg-bench",
  env: { AGENTORG_SLM_BASE_URL: fake.baseURL, AGENTORG_LLM_BASE_URL: fake.baseURL, POWERTOOLS_LOG_LEVEL: "SILENT" },
});
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
const log = console.log;
console.log = () => undefined;

const headers = (key: string) => ({ authorization: `Bearer ${key}`, "content-type": "application/json" });
const post = async (path: string, key: string, body: unknown, method = "POST") => (await fetch(`${platform.apiUrl}${path}`, { method, headers: headers(key), body: JSON.stringify(body) })).json() as Promise<any>;
const get = async (path: string, key: string) => (await fetch(`${platform.apiUrl}${path}`, { headers: headers(key) })).json() as Promise<any>;

const org = await post("/organizations", platform.operatorKey, { name: "Bench", tier: "enterprise" });
const { secret: key } = await post(`/organizations/${org.id}/api-keys`, platform.operatorKey, {});
const ceo = await post("/agents", key, { name: "Ada", roleId: "ceo" });
const svp = await post("/agents", key, { name: "Sam", roleId: "senior-manager", managerId: ceo.id });
// The worker mapping's concurrency (20), not the per-organization default (4): the queue's throughput.
await post("/work-settings", key, { maxConcurrentTasks: 20, dailyTasks: 100_000 }, "PATCH");

// Warm-up: one task loads the worker's modules (a cold start).
await post(`/agents/${ceo.id}/messages`, key, { kind: "delegate", to: svp.id, body: "warm up" });
await platform.queues.drained(120_000);
await new Promise((r) => setTimeout(r, 1_000));
await platform.queues.drained(120_000);

const started = Date.now();
for (let i = 0; i < N; i += 10) {
  await Promise.all(Array.from({ length: Math.min(10, N - i) }, (_, n) => post(`/agents/${ceo.id}/messages`, key, { kind: "delegate", to: svp.id, body: `task ${i + n}` })));
}
let tasks: any[] = [];
for (let polls = 0; polls < 6_000; polls++) {
  tasks = [];
  let cursor: string | undefined;
  do {
    const page = await get(`/tasks?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, key);
    tasks.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  if (tasks.length >= N + 1 && tasks.every((t) => t.status === "done" || t.status === "failed" || t.status === "needs_human")) break;
  await new Promise((r) => setTimeout(r, 100));
}
const elapsedMs = Math.max(...tasks.map((t) => Date.parse(t.finishedAt))) - started;
const measured = tasks.filter((t) => t.startedAt && Date.parse(t.createdAt) >= started);
const toClaim = measured.map((t) => Date.parse(t.startedAt) - Date.parse(t.createdAt));
const result = {
  tasks: measured.length,
  done: measured.filter((t) => t.status === "done").length,
  tasksPerSecond: Math.round((measured.length / (elapsedMs / 1000)) * 10) / 10,
  messageToFirstStepMs: { p50: percentile(toClaim, 0.5), p95: percentile(toClaim, 0.95) },
};
console.log = log;
printTable([{ tasks: result.tasks, done: result.done, "tasks/s": result.tasksPerSecond, "message->claim p50 ms": result.messageToFirstStepMs.p50, "p95 ms": result.messageToFirstStepMs.p95 }]);
writeResult("work-queue", result);
await platform.stop();
await fake.close();
process.exit(0);
