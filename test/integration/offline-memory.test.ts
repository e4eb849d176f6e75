import { afterAll, beforeAll, expect, it } from "vitest";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

/**
 * No SLM endpoint, a real (fake OpenAI) LLM: an agent's turn the offline responder answered must not
 * reach the LLM later as if it were an assistant turn of its own.
 */
let platform: Platform;
let llm: FakeOpenAI;

beforeAll(async () => {
  llm = await startFakeOpenAI();
  platform = await startTestPlatform({ env: { AGENTORG_LLM_BASE_URL: llm.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" } });
});
afterAll(async () => {
  await platform?.stop();
  await llm?.close();
});

it("keeps the user's words of an offline turn in the agent's memory but never the offline answer", async () => {
  const { key } = await createTenant(platform);
  const boss = await call(platform, "/agents", { method: "POST", key, body: { name: "Ada", roleId: "ceo", managerId: null } });
  // The CEO role always uses the LLM; a senior manager's queries are routed (here: by the override).
  const ceo = await call(platform, "/agents", { method: "POST", key, body: { name: "Sam", roleId: "senior-manager", managerId: boss.body.id } });
  const route = (tier: "slm" | "llm") => call(platform, "/routing/settings", { method: "PUT", key, body: { override: { mode: "fixed", tier } } });
  const token = await call(platform, "/ws-tokens", { method: "POST", key });
  const socket = await TestSocket.open(`${platform.wsUrl}?token=${token.body.token}`);

  await route("slm");
  socket.send({ action: "chat", agentId: ceo.body.id, message: "My name is Grace." });
  const offline = await socket.next("chat.done");
  await route("llm");
  socket.send({ action: "chat", agentId: ceo.body.id, message: "What is my name?" });
  const online = await socket.next("chat.done");
  socket.close();

  expect(offline).toMatchObject({ offline: true, reply: expect.stringMatching(/^\[offline responder\]/) });
  expect(online).toMatchObject({ offline: false, tier: "llm" });
  expect(llm.requests).toHaveLength(1);
  const messages = (llm.requests[0]!.body as { messages: { role: string; content: string }[] }).messages;
  expect(messages.map((m) => m.content)).toContain("My name is Grace.");
  expect(messages.filter((m) => m.role === "assistant")).toEqual([]);
  expect(JSON.stringify(messages)).not.toContain("[offline responder]");
});
