import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { ENDED, eventually, inboxOf, messageIn, tasksOf } from "../support/work";

/**
 * Issue 12's first "done when", with no model endpoint configured: a delegation posted over the REST
 * API from a CEO agent to a senior manager is worked by the senior manager by itself (the work queue:
 * the table's stream -> the dispatcher -> the local SQS queue -> the worker), reaches `done`, and its
 * report lands in the CEO's inbox. No chat is open; nobody reads anything.
 */
let platform: Platform;

beforeAll(async () => {
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: undefined, AGENTORG_LLM_BASE_URL: undefined } });
});
afterAll(async () => {
  await platform?.stop();
});

async function agent(key: string, name: string, roleId: string, managerId: string | null = null) {
  const result = await call(platform, "/agents", { method: "POST", key, body: { name, roleId, managerId } });
  if (result.status !== 201) throw new Error(`create ${name}: ${result.status} ${result.text}`);
  return result.body as { id: string };
}

describe("a delegation with no model configured", () => {
  it("reaches done and reports back to the CEO's inbox", async () => {
    const t = await createTenant(platform);
    const ceo = await agent(t.key, "Ada (CEO)", "ceo");
    const svp = await agent(t.key, "Sam (SVP)", "senior-manager", ceo.id);

    const sent = await call(platform, `/agents/${ceo.id}/messages`, { method: "POST", key: t.key, body: { kind: "delegate", to: svp.id, subject: "Q3 plan", body: "Draft the Q3 plan." } });
    expect(sent.status).toBe(201);
    const delegated = sent.body.items[0];
    expect(delegated.status).toBe("queued");

    const done = await eventually(() => messageIn(platform, t.key, svp.id, delegated.id), (m) => ENDED.has(m?.status ?? ""), "the delegation to end");
    expect(done).toMatchObject({ status: "done" });
    const report = await eventually(() => inboxOf(platform, t.key, ceo.id), (items) => items.some((m) => m.kind === "report"), "the report");
    expect(report.find((m) => m.kind === "report")).toMatchObject({ from: svp.id, to: ceo.id, inReplyTo: delegated.id, reportStatus: "done", status: "queued" });
    // The offline responder labels what it says.
    expect(report.find((m) => m.kind === "report")!.body).toMatch(/offline/i);

    const [task] = await tasksOf(platform, t.key);
    expect(task).toMatchObject({ id: delegated.id, agentId: svp.id, from: ceo.id, kind: "delegate", status: "done", attempts: 1 });
    expect(task!.steps).toBeGreaterThan(0);
    expect(task!.runId).toEqual(expect.any(String));
    // The report resumes nothing (the CEO was not working a task): it is no task of its own.
    expect((await tasksOf(platform, t.key)).map((x) => x.id)).toEqual([delegated.id]);
  });
});
