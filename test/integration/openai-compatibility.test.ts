import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import OpenAI from "openai";
import type { Platform } from "../../local/platform";
import { startFakeOpenAI, type FakeOpenAI } from "../support/fake-openai";
import { call, createTenant, LIFTED_RATE_LIMITS, setRateLimits, startTestPlatform } from "../support/platform";

/**
 * The OpenAI-compatible routes as OpenAI's official Node SDK sees them (docs/openai-compatibility.md):
 * errors it can read (`e.error.message`, `e.code`, `e.type`, `e.param`), the model names clients
 * written for OpenAI send, and `GET /models` in OpenAI's list shape. Models are the fake OpenAI server.
 */
let platform: Platform;
let slm: FakeOpenAI;
let llm: FakeOpenAI;

beforeAll(async () => {
  [slm, llm] = await Promise.all([startFakeOpenAI(), startFakeOpenAI()]);
  platform = await startTestPlatform({
    env: { AGENTORG_SLM_BASE_URL: slm.baseURL, AGENTORG_LLM_BASE_URL: llm.baseURL, AGENTORG_MODEL_MAX_RETRIES: "0" },
  });
});
afterAll(async () => {
  await platform?.stop();
  await Promise.all([slm?.close(), llm?.close()]);
});
beforeEach(() => {
  slm.reset();
  llm.reset();
});

const sdk = (key: string) => new OpenAI({ baseURL: platform.apiUrl, apiKey: key, maxRetries: 0 });
const ask = (content: string) => [{ role: "user" as const, content }];
type ApiError = InstanceType<typeof OpenAI.APIError>;
const failure = (promise: Promise<unknown>) => promise.then(
  () => {
    throw new Error("expected the call to fail");
  },
  (error: unknown) => error as ApiError,
);

describe("errors in OpenAI's shape", () => {
  it("a bad key: AuthenticationError with OpenAI's message, type and code", async () => {
    const error = await failure(sdk("ao_not-a-key").chat.completions.create({ model: "auto", messages: ask("hi") }));

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.status).toBe(401);
    expect(error.error).toMatchObject({ message: "The API key is not valid.", type: "invalid_request_error", code: "invalid_api_key", param: null });
    expect(error.code).toBe("invalid_api_key");
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toBe("401 The API key is not valid.");
  });

  it("a bad key on GET /models too", async () => {
    const error = await failure(sdk("ao_not-a-key").models.list());

    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(error.error).toMatchObject({ code: "invalid_api_key" });
  });

  it("an unknown model: NotFoundError (404, as OpenAI) model_not_found naming the accepted names; nothing is called", async () => {
    const { key } = await createTenant(platform);

    const error = await failure(sdk(key).chat.completions.create({ model: "gpt-17", messages: ask("hi") }));

    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe("model_not_found");
    expect(error.param).toBe("model");
    expect(error.type).toBe("invalid_request_error");
    expect(error.error).toMatchObject({ message: expect.stringContaining("'gpt-17' does not exist") });
    for (const name of ["auto", "llama-3.2-3b", "gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo"]) expect((error.error as { message: string }).message).toContain(name);
    expect(slm.requests).toHaveLength(0);
    expect(llm.requests).toHaveLength(0);
  });

  it("keeps the problem document beside OpenAI's member, with our stable code", async () => {
    const { key } = await createTenant(platform);

    const result = await call(platform, "/chat/completions", { method: "POST", key, body: { model: "gpt-17", messages: ask("hi") } });

    expect(result.status).toBe(404);
    expect(result.headers.get("content-type")).toBe("application/problem+json");
    expect(result.body).toMatchObject({ status: 404, code: "unknown_model", type: "urn:agentorg:problem:unknown_model", error: { code: "model_not_found", param: "model" } });
  });

  it("bad input: BadRequestError naming the field in param", async () => {
    const { key } = await createTenant(platform);

    const error = await failure(sdk(key).chat.completions.create({ model: "auto", messages: ask("hi"), temperature: "hot" as never }));

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.code).toBe("validation_failed");
    expect(error.param).toBe("temperature");
    expect(error.type).toBe("invalid_request_error");
    expect(error.message).toMatch(/^400 The request body is invalid: temperature/);
  });

  it("a rate limit: RateLimitError rate_limit_exceeded, type requests", async () => {
    const { org, key } = await createTenant(platform);
    // One request for the key in a long while: the second is refused.
    await setRateLimits(platform, org.id, { ...LIFTED_RATE_LIMITS, apiKey: { requestsPerSecond: 0.001, burst: 1 } });
    await sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") });

    const error = await failure(sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") }));

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe("rate_limit_exceeded");
    expect(error.type).toBe("requests");
    expect(error.error).toMatchObject({ message: expect.stringMatching(/^Rate limit exceeded/) });
  });

  it("a spent budget: RateLimitError insufficient_quota (what OpenAI's clients stop retrying on)", async () => {
    const { org, key } = await createTenant(platform);
    await call(platform, `/organizations/${org.id}`, { method: "PATCH", key, body: { spendLimitUsd: 0.000001 } });

    const error = await failure(sdk(key).chat.completions.create({ model: "gpt-4o", messages: ask("hi") }));

    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe("insufficient_quota");
    expect(error.type).toBe("insufficient_quota");
    expect(error.error).toMatchObject({ message: expect.stringContaining("monthly model budget") });
    expect(llm.requests).toHaveLength(0);
  });

  it("both models failing: InternalServerError with type server_error and our code", async () => {
    const { key } = await createTenant(platform);
    slm.script({ error: { status: 500 } });
    llm.script({ error: { status: 500 } });

    const error = await failure(sdk(key).chat.completions.create({ model: "auto", messages: ask("hi") }));

    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error.status).toBe(502);
    expect(error.type).toBe("server_error");
    expect(error.code).toBe("model_failed");
  });

  it("a route this API does not have (embeddings): NotFoundError saying so", async () => {
    const { key } = await createTenant(platform);

    const error = await failure(sdk(key).embeddings.create({ model: "text-embedding-3-small", input: "hi" }));

    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect(error.code).toBe("route_not_found");
    expect(error.message).toBe("404 No route matches POST /api/v1/embeddings.");
  });

  it("other routes keep plain problem documents", async () => {
    const result = await call(platform, "/organizations", { key: "ao_not-a-key" });

    expect(result.status).toBe(401);
    expect(result.body.error).toBeUndefined();
    expect(result.body.code).toBe("invalid_api_key");
  });
});

describe("model names", () => {
  it.each([
    ["gpt-4o", "gpt-4o", "llm"],
    ["openai/gpt-4o", "gpt-4o", "llm"],
    ["gpt-4o-2024-08-06", "gpt-4o", "llm"],
    ["gpt-4.1", "gpt-4.1", "llm"],
    ["gpt-4", "gpt-4o", "llm"],
    ["gpt-4-turbo", "gpt-4o", "llm"],
    ["gpt-4o-mini", "llama-3.2-3b", "slm"],
    ["gpt-4.1-mini", "llama-3.2-3b", "slm"],
    ["gpt-3.5-turbo", "llama-3.2-3b", "slm"],
    ["openai/gpt-3.5-turbo-0125", "llama-3.2-3b", "slm"],
    ["meta-llama/Llama-3.2-3B-Instruct", "llama-3.2-3b", "slm"],
    ["microsoft/Phi-3.5-mini-instruct", "phi-3.5-mini", "slm"],
    ["llama3.2:3b", "llama-3.2-3b", "slm"],
  ])("%s is served by %s (%s)", async (name, model, tier) => {
    const { key } = await createTenant(platform);

    const { data, response } = await sdk(key).chat.completions.create({ model: name, messages: ask("hi") }).withResponse();

    expect(data.model).toBe(model);
    expect(response.headers.get("x-agentorg-tier")).toBe(tier);
    const fake = tier === "slm" ? slm : llm;
    expect(fake.requests).toHaveLength(1);
    // The endpoint is called by the catalog model's upstream name, never by the alias.
    expect((fake.requests[0]!.body as { model: string }).model).toBe(model === "llama-3.2-3b" ? "llama3.2:3b" : model === "phi-3.5-mini" ? "phi3.5" : model);
  });

  it("openai/auto routes like auto", async () => {
    const { key } = await createTenant(platform);

    const { response } = await sdk(key).chat.completions.create({ model: "openai/auto", messages: ask("hi") }).withResponse();

    expect(response.headers.get("x-agentorg-tier")).toBe("slm");
    expect(Number(response.headers.get("x-agentorg-score"))).toBeGreaterThan(0);
  });

  it("refuses a name longer than 256 characters, even one that ends in a known model (it is stored)", async () => {
    const { key } = await createTenant(platform);

    const error = await failure(sdk(key).chat.completions.create({ model: `${"x".repeat(300)}/gpt-4o`, messages: ask("hi") }));

    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error.param).toBe("model");
    expect(llm.requests).toHaveLength(0);
  });

  it("records the name the client asked for", async () => {
    const { key } = await createTenant(platform);
    await sdk(key).chat.completions.create({ model: "gpt-4o-mini", messages: ask("hi") });

    const decisions = await call(platform, "/routing/decisions", { key });

    expect(decisions.body.items[0]).toMatchObject({ requestedModel: "gpt-4o-mini", model: "llama-3.2-3b", reason: { code: "pinned", detail: "model gpt-4o-mini requested (served by llama-3.2-3b)" } });
  });

  it("GET /models is OpenAI's list: the catalog, then auto and the aliases, through the SDK's pager", async () => {
    const { key } = await createTenant(platform);

    const page = await sdk(key).models.list();
    const raw = await call(platform, "/models", { key });

    const ids = page.data.map((m) => m.id);
    expect(raw.body.object).toBe("list");
    for (const m of page.data) {
      expect(m).toMatchObject({ object: "model", id: expect.any(String), owned_by: expect.any(String) });
      expect(m.created).toBeGreaterThan(1_600_000_000);
    }
    expect(ids).toEqual(expect.arrayContaining(["llama-3.2-3b", "phi-3.5-mini", "gpt-4o", "gpt-4.1", "auto", "gpt-4o-mini", "gpt-3.5-turbo", "gpt-4"]));
    expect(new Set(ids).size).toBe(ids.length);
    expect(page.data.find((m) => m.id === "gpt-4o-mini")).toMatchObject({ aliasOf: "llama-3.2-3b" });
    expect(page.data.find((m) => m.id === "llama-3.2-3b")).toMatchObject({ tier: "slm", default: true, aliases: expect.arrayContaining(["gpt-4o-mini", "gpt-3.5-turbo"]) });
  });
});

describe("keys restricted to some models (as LiteLLM's virtual keys)", () => {
  const restrictedKey = async (orgId: string, models: string[]) => call(platform, `/organizations/${orgId}/api-keys`, { method: "POST", key: platform.operatorKey, body: { name: "narrow", models } });

  it("may request the models it lists, under any of their names, and nothing else (403 model_not_allowed naming them)", async () => {
    const { org } = await createTenant(platform);
    const created = await restrictedKey(org.id, ["gpt-4o-mini"]);
    const narrow = sdk(created.body.secret);

    const byAlias = await narrow.chat.completions.create({ model: "gpt-4o-mini", messages: ask("hi") });
    const byId = await narrow.chat.completions.create({ model: "llama-3.2-3b", messages: ask("hi") });
    const other = await failure(narrow.chat.completions.create({ model: "gpt-4o", messages: ask("hi") }));
    const routed = await failure(narrow.chat.completions.create({ model: "auto", messages: ask("hi") }));

    expect(created.status).toBe(201);
    expect(created.body.models).toEqual(["gpt-4o-mini"]);
    expect([byAlias.model, byId.model]).toEqual(["llama-3.2-3b", "llama-3.2-3b"]);
    for (const error of [other, routed]) {
      expect(error).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect(error.code).toBe("model_not_allowed");
      expect(error.param).toBe("model");
      expect(error.message).toMatch(/^403 This API key may not use the model '(gpt-4o|auto)'; it may use: gpt-4o-mini\.$/);
    }
    expect(llm.requests).toHaveLength(0);
  });

  it("lists only its models on GET /models; an unrestricted key of the same organization lists all", async () => {
    const { org, key } = await createTenant(platform);
    const created = await restrictedKey(org.id, ["auto", "openai/gpt-4o"]);

    const narrow = (await sdk(created.body.secret).models.list()).data.map((m) => m.id);
    const all = (await sdk(key).models.list()).data.map((m) => m.id);

    expect(narrow).toEqual(["gpt-4o", "auto", "gpt-4", "gpt-4-32k", "gpt-4-turbo", "gpt-4-turbo-preview", "chatgpt-4o-latest", "gpt-5"]);
    expect(all).toEqual(expect.arrayContaining(["llama-3.2-3b", "gpt-4.1", "gpt-4o-mini"]));
  });

  it("refuses a key naming a model chat completions would not accept", async () => {
    const { org } = await createTenant(platform);

    const result = await restrictedKey(org.id, ["gpt-4o", "gpt-17"]);

    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ code: "unknown_model", errors: [{ field: "models.1" }] });
  });
});
