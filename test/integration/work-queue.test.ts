import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { workQueue } from "../../functions/manifest/work";
import { startFakeOpenAI, type FakeOpenAI, type FakeChatRequest as FakeRequest } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { ENDED, eventually, inboxOf, messageIn, tasksOf } from "../support/work";

/**
 * The work queue on the real platform (issue 12): agents work their tasks by themselves through the
 * table's stream (outbox), the local SQS queue and the worker, with the fake model server scripting
 * their tool calls. Failed attempts come back after a short visibility timeout (a platform option for
 * tests), so the dead-letter path runs in the test's time. Waits are bounded polls; nothing is timed.
 */
let platform: Platform;
let model: FakeOpenAI;

beforeAll(async () => {
  model = await startFakeOpenAI();
  platform = await startTestPlatform({
    env: { AGENTORG_SLM_BASE_URL: model.baseURL, AGENTORG_LLM_BASE_URL: model.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0", AGENTORG_WORK_WAIT_SECONDS: "1", AGENTORG_WORK_RETRY_SECONDS: "0" },
  });
});
afterAll(async () => {
  await platform?.stop();
  await model?.close();
});
beforeEach(() => model.reset());

type Tenant = Awaited<ReturnType<typeof createTenant>>;

async function agent(t: Tenant, name: string, roleId: string, managerId: string | null = null) {
  const result = await call(platform, "/agents", { method: "POST", key: t.key, body: { name, roleId, managerId } });
  if (result.status !== 201) throw new Error(`create ${name}: ${result.status} ${result.text}`);
  return result.body as { id: string };
}

async function chain(t: Tenant) {
  const ceo = await agent(t, "Ada (CEO)", "ceo");
  const svp = await agent(t, "Sam (SVP)", "senior-manager", ceo.id);
  const mgr = await agent(t, "Mia (Manager)", "manager", svp.id);
  const lead = await agent(t, "Lee (Lead)", "team-lead", mgr.id);
  return { ceo, svp, mgr, lead };
}

const delegate = async (t: Tenant, from: string, to: string, body: string) => {
  const sent = await call(platform, `/agents/${from}/messages`, { method: "POST", key: t.key, body: { kind: "delegate", to, body } });
  if (sent.status !== 201) throw new Error(`delegate: ${sent.status} ${sent.text}`);
  return sent.body.items[0] as { id: string };
};

const system = (request: FakeRequest) => String((request.messages[0] as { content: string }).content);
const levelOf = (request: FakeRequest) => /\(level (\d)\)\./.exec(system(request))?.[1];
const lastUser = (request: FakeRequest) => String((request.messages.filter((m) => (m as { role: string }).role === "user").at(-1) as { content: string }).content);
const last = (request: FakeRequest) => request.messages.at(-1) as { role: string; content: string };
/** The body of a report as the worker gives it to the delegator (between the first and the last line). */
const reportBody = (input: string) => input.split("\n").slice(1, -1).join("\n");

describe("delegation chains on the work queue", () => {
  it("rolls a three-hop delegation up: each hop its own task, each report resuming its delegator's task", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    const next: Record<string, string> = { "2": c.mgr.id, "3": c.lead.id };
    model.respond((request) => {
      const level = levelOf(request)!;
      if (last(request).role === "tool") return `level ${level} delegated: ${JSON.parse(last(request).content).status}`;
      const input = lastUser(request);
      if (input.startsWith("Report from")) return `level ${level} reports: ${reportBody(input)}`;
      if (level === "4") return "the analysis is done";
      return { toolCalls: [{ name: "delegate_task", arguments: { to: next[level], task: `task from level ${level}` } }] };
    });

    const delegated = await delegate(t, c.ceo.id, c.svp.id, "Prepare the quarterly analysis");
    const inbox = await eventually(() => inboxOf(platform, t.key, c.ceo.id), (items) => items.some((m) => m.kind === "report"), "the report to the CEO");
    await platform.queues.drained();

    const report = inbox.find((m) => m.kind === "report")!;
    expect(report).toMatchObject({ from: c.svp.id, inReplyTo: delegated.id, reportStatus: "done", body: "level 2 reports: level 3 reports: the analysis is done" });
    const tasks = await tasksOf(platform, t.key);
    // SVP's, manager's and lead's delegations, and the two reports that resumed the manager and the SVP.
    expect(tasks.map((x) => [x.agentId, x.kind, x.status]).sort()).toEqual(
      [
        [c.svp.id, "delegate", "done"],
        [c.mgr.id, "delegate", "done"],
        [c.lead.id, "delegate", "done"],
        [c.mgr.id, "report", "done"],
        [c.svp.id, "report", "done"],
      ].sort(),
    );
    expect(tasks.every((x) => x.attempts === 1)).toBe(true);
    // The lead's report went to the manager (it resumed the manager's task), not past it.
    expect((await inboxOf(platform, t.key, c.mgr.id)).filter((m) => m.kind === "report")).toMatchObject([{ from: c.lead.id, body: "the analysis is done", status: "done" }]);
    expect((await inboxOf(platform, t.key, c.ceo.id)).filter((m) => m.kind === "report")).toHaveLength(1);
  });

  it("has no second effect when a task is delivered again after it ended", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    model.respond(() => "done once");
    const delegated = await delegate(t, c.ceo.id, c.svp.id, "Do it once");
    await eventually(() => messageIn(platform, t.key, c.svp.id, delegated.id), (m) => m?.status === "done", "the task to end");
    await platform.queues.drained();
    const requests = model.requests.length;

    // SQS delivers at least once: the same task again, twice.
    platform.queues.local.send(workQueue.name, JSON.stringify({ orgId: t.org.id, taskId: delegated.id }));
    platform.queues.local.send(workQueue.name, JSON.stringify({ orgId: t.org.id, taskId: delegated.id }));
    await platform.queues.drained();

    expect(model.requests.length).toBe(requests);
    const [task] = await tasksOf(platform, t.key);
    expect(task).toMatchObject({ id: delegated.id, status: "done", attempts: 1 });
    expect((await inboxOf(platform, t.key, c.ceo.id)).filter((m) => m.kind === "report")).toHaveLength(1);
  });

  it("lands a task that fails every attempt in the dead-letter queue: failed with the reason, the delegator told", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    model.respond(() => ({ error: { status: 500 } }));
    const delegated = await delegate(t, c.ceo.id, c.svp.id, "This will not work");

    const failed = await eventually(() => messageIn(platform, t.key, c.svp.id, delegated.id), (m) => ENDED.has(m?.status ?? ""), "the task to end");
    await platform.queues.drained();

    expect(failed).toMatchObject({ status: "failed" });
    expect(failed!.reason).toMatch(/failed 3 attempt/);
    const [task] = await tasksOf(platform, t.key);
    expect(task).toMatchObject({ status: "failed", attempts: workQueue.maxReceiveCount });
    const report = (await inboxOf(platform, t.key, c.ceo.id)).find((m) => m.kind === "report");
    expect(report).toMatchObject({ from: c.svp.id, inReplyTo: delegated.id, reportStatus: "failed" });
    expect(report!.body).toMatch(/could not be completed/);
    // Every attempt gave its concurrency slot back.
    expect((await call(platform, "/work-settings", { key: t.key })).body.usage).toMatchObject({ running: 0, tasks: 1 });
    expect(platform.queues.local.size(workQueue.deadLetter.name)).toBe(0);
  });
});

describe("per-organization limits", () => {
  it("works at most maxConcurrentTasks of an organization at once; the others wait in the queue, not in the DLQ", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    expect((await call(platform, "/work-settings", { method: "PATCH", key: t.key, body: { maxConcurrentTasks: 1 } })).status).toBe(200);
    let running = 0;
    let most = 0;
    model.respond(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 30));
      running--;
      return "one at a time";
    });
    const sent = await Promise.all([1, 2, 3].map((n) => delegate(t, c.ceo.id, c.svp.id, `job ${n}`)));
    await eventually(() => tasksOf(platform, t.key), (tasks) => tasks.length === 3 && tasks.every((x) => ENDED.has(x.status)), "the three tasks to end");
    await platform.queues.drained();

    expect((await tasksOf(platform, t.key)).map((x) => x.status)).toEqual(["done", "done", "done"]);
    expect(most).toBe(1);
    expect(sent).toHaveLength(3);
    expect((await call(platform, "/work-settings", { key: t.key })).body.usage).toMatchObject({ running: 0, tasks: 3 });
  });

  it("sends a task past the day's task budget to a person (needs_human, with the reason), telling the delegator", async () => {
    const t = await createTenant(platform);
    const c = await chain(t);
    expect((await call(platform, "/work-settings", { method: "PATCH", key: t.key, body: { dailyTasks: 1 } })).body.settings).toMatchObject({ dailyTasks: 1, maxConcurrentTasks: 4 });
    model.respond(() => "fine");
    const first = await delegate(t, c.ceo.id, c.svp.id, "first");
    await eventually(() => messageIn(platform, t.key, c.svp.id, first.id), (m) => m?.status === "done", "the first task");
    const second = await delegate(t, c.ceo.id, c.svp.id, "second");
    const ended = await eventually(() => messageIn(platform, t.key, c.svp.id, second.id), (m) => ENDED.has(m?.status ?? ""), "the second task");
    await platform.queues.drained();

    expect(ended).toMatchObject({ status: "needs_human" });
    expect(ended!.reason).toMatch(/1 tasks for today/);
    expect((await tasksOf(platform, t.key, "needs_human")).map((x) => x.id)).toEqual([second.id]);
    const reports = (await inboxOf(platform, t.key, c.ceo.id)).filter((m) => m.kind === "report");
    expect(reports.map((r) => [r.inReplyTo, r.reportStatus])).toEqual([
      [second.id, "needs_human"],
      [first.id, "done"],
    ]);
  });

  it("refuses bad work settings with a problem naming the field, and keeps one tenant's tasks from another", async () => {
    const t = await createTenant(platform);
    const other = await createTenant(platform);
    const c = await chain(t);
    model.respond(() => "mine");
    await delegate(t, c.ceo.id, c.svp.id, "private");
    await eventually(() => tasksOf(platform, t.key), (tasks) => tasks.length === 1 && ENDED.has(tasks[0]!.status), "the task");

    const bad = await call(platform, "/work-settings", { method: "PATCH", key: t.key, body: { maxConcurrentTasks: 0 } });
    const badStatus = await call(platform, "/tasks?status=sleeping", { key: t.key });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].field).toBe("maxConcurrentTasks");
    expect(badStatus.status).toBe(400);
    expect(await tasksOf(platform, other.key)).toEqual([]);
  });
});
