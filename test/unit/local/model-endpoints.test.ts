import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../functions/lib/config";
import { modelEndpointLines } from "../../../local/model-endpoints";

/** The banner is computed from the same parsed settings the handlers use, so it cannot disagree with them. */
const settings = (env: Record<string, string>) => parseConfig({ TABLE_NAME: "agentorg", AGENTORG_OPERATOR_KEY: "op_0123456789abcdef", ...env }).models;

describe("npm start's model endpoint lines", () => {
  it("says that the offline responder answers when no endpoint is configured", () => {
    const lines = modelEndpointLines(settings({}));

    expect(lines[0]).toContain("no endpoint configured: the offline responder answers every query");
    expect(lines.join("\n")).toContain("AGENTORG_SLM_BASE_URL");
  });

  it("names each configured endpoint with its default model, and the tier left to the offline responder", () => {
    const lines = modelEndpointLines(settings({ AGENTORG_SLM_BASE_URL: "http://localhost:11434/v1/", AGENTORG_SLM_MODEL: "phi-3.5-mini" }));

    expect(lines).toEqual([
      "  Models        SLM  phi-3.5-mini at http://localhost:11434/v1",
      "                LLM  offline responder (no endpoint: set AGENTORG_LLM_BASE_URL or OPENAI_API_KEY)",
    ]);
  });

  it("shows OpenAI for an OpenAI key alone, and never prints a key or credentials in a URL", () => {
    const lines = modelEndpointLines(
      settings({ OPENAI_API_KEY: "sk-secret-value", AGENTORG_SLM_BASE_URL: "https://user:hunter2@slm.example.com/v1?token=abc", AGENTORG_SLM_API_KEY: "slm-secret" }),
    ).join("\n");

    expect(lines).toContain("SLM  llama-3.2-3b at https://slm.example.com/v1 (with an API key)");
    expect(lines).toContain("LLM  gpt-4o at https://api.openai.com/v1 (with an API key)");
    expect(lines).not.toMatch(/sk-secret|hunter2|slm-secret|token=abc|user/);
  });
});
