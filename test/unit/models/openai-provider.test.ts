import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_MODELS } from "../../../core/models/catalog";
import { createOpenAiProvider } from "../../../core/models/openai-provider";
import { ProviderError } from "../../../core/models/provider";
import { startFakeOpenAI, type FakeOpenAI } from "../../support/fake-openai";

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI({ apiKey: "sekret" });
});
afterAll(async () => {
  await fake?.close();
});

const request = { model: DEFAULT_MODELS[0]!, messages: [{ role: "user" as const, content: "hi" }], maxTokens: 50, params: {} };

describe("openai provider", () => {
  it("reads its API key from the secret store once, on first use", async () => {
    let reads = 0;
    const provider = createOpenAiProvider({ baseURL: fake.baseURL, timeoutMs: 2000, maxRetries: 0, resolveApiKey: async () => (reads++, "sekret") });

    const first = await provider.complete(request);
    const second = await provider.complete(request);

    expect(first.content).toBe("fake reply to: hi");
    expect(second.usage.outputTokens).toBeGreaterThan(0);
    expect(reads).toBe(1);
  });

  it("fails as a provider error, and retries the read later, when the key cannot be read", async () => {
    let attempts = 0;
    const provider = createOpenAiProvider({
      baseURL: fake.baseURL,
      timeoutMs: 2000,
      maxRetries: 0,
      resolveApiKey: async () => {
        attempts++;
        if (attempts === 1) throw new Error("AccessDenied");
        return "sekret";
      },
    });

    const failed = provider.complete(request);
    await expect(failed).rejects.toBeInstanceOf(ProviderError);
    const recovered = await provider.complete(request);

    expect(recovered.content).toBe("fake reply to: hi");
    expect(attempts).toBe(2);
  });

  it("surfaces a rejected key as a provider failure with the endpoint's status", async () => {
    const provider = createOpenAiProvider({ baseURL: fake.baseURL, apiKey: "wrong", timeoutMs: 2000, maxRetries: 0 });

    await expect(provider.complete(request)).rejects.toMatchObject({ kind: "failed", status: 401 });
  });
});
