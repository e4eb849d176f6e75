import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { keys } from "../../core/db/keys";
import { DYNAMODB_TIMEOUTS } from "../../core/db/client";
import { periodOf } from "../../core/shared/clock";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, eventually, startTestPlatform } from "../support/platform";

/**
 * Fault: DynamoDB stops answering between the model's answer and the settlement (DynamoDB Local frozen
 * with SIGSTOP while the model thinks, resumed with SIGCONT once the settle has given up).
 *
 * Invariants:
 * - a settle that failed is not a model failure: the other tier's model is not called (it would be
 *   paid for, and its settle would fail the same way); the answer is 503 `service_unavailable`;
 * - the reservation is closed (once DynamoDB answers again), not left open: released, or settled by
 *   a settle attempt the SDK gave up on but the resumed database still carried out (then the books
 *   hold exactly that query's cost, once).
 *
 * Deployed timeouts (29 s), so the deadline leaves time for a fallback: only the settle's failure
 * decides whether one is made.
 */
let platform: Platform;
let slm: FakeOpenAI;
let llm: FakeOpenAI;
let db: DynamoDBDocumentClient;
const frozen: number[] = [];

beforeAll(async () => {
  [slm, llm] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  platform = await startTestPlatform({ env: { AGENTORG_SLM_BASE_URL: slm.baseURL, AGENTORG_LLM_BASE_URL: llm.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
});
afterAll(async () => {
  for (const pid of frozen.splice(0)) process.kill(pid, "SIGCONT");
  db?.destroy();
  await platform?.stop();
  await Promise.all([slm?.close(), llm?.close()]);
});

async function usage(orgId: string) {
  const { Item = {} } = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.usage(orgId, periodOf(new Date())), ConsistentRead: true }));
  return { committed: Number(Item.committedMicroUsd ?? 0), open: Number(Item.openReservations ?? 0), queries: Number(Item.queries ?? 0), cost: Number(Item.costMicroUsd ?? 0) };
}

describe("the settlement fails after the model answered", () => {
  it("does not call the fallback model, answers 503, and releases the reservation once DynamoDB is back", async () => {
    const t = await createTenant(platform, { tier: "enterprise" });
    const MODEL_MS = 1_500;
    slm.respond(() => ({ content: "an answer nobody will get", delayMs: MODEL_MS }));
    llm.respond(() => ({ content: "an answer nobody will get", delayMs: MODEL_MS }));

    const answer = call(platform, "/chat/completions", { method: "POST", key: t.key, body: { model: "auto", max_tokens: 50, messages: [{ role: "user", content: "hello" }] } });
    // Freeze the database once the model call is under way (the query holds its reservation by then: the
    // plan's reads and writes, the reservation among them, all end before a model is called).
    const modelCalls = () => llm.requests.concat(slm.requests).filter((r) => r.path === "/v1/chat/completions");
    await eventually(async () => (modelCalls().length === 1 ? true : undefined), 10_000, "the model call");
    expect((await usage(t.org.id)).open).toBe(1);
    const pid = platform.dynamoDb.pid!;
    process.kill(pid, "SIGSTOP");
    frozen.push(pid);
    // The settle's attempts each wait out DynamoDB's request timeout; resume only after all have.
    const settleGivesUp = DYNAMODB_TIMEOUTS.maxAttempts * DYNAMODB_TIMEOUTS.requestTimeoutMs;
    await new Promise((resolve) => setTimeout(resolve, MODEL_MS + settleGivesUp + 2_000));
    process.kill(pid, "SIGCONT");
    frozen.splice(frozen.indexOf(pid), 1);
    const response = await answer;

    expect(modelCalls()).toHaveLength(1);
    expect(response.status).toBe(503);
    expect(response.body.code).toBe("service_unavailable");
    // A frozen database delays writes rather than losing them: a settle the SDK gave up on may still
    // land when it resumes (its outcome was unknown, hence the 503). Either way the books balance:
    // nothing stays reserved, and what is committed is exactly the cost of what was settled, once.
    const after = await eventually(async () => {
      const u = await usage(t.org.id);
      return u.open === 0 ? u : undefined;
    }, 20_000, "the reservation closed");
    expect(after.queries).toBeLessThanOrEqual(1);
    expect(after.committed).toBe(after.cost);
    if (after.queries === 0) expect(after.committed).toBe(0);
  }, 60_000);
});
