import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../../functions/lib/config";

describe("function configuration", () => {
  it("names a missing variable", () => {
    expect(() => parseConfig({ AGENTORG_OPERATOR_KEY: "x".repeat(20) })).toThrow(/TABLE_NAME/);
    expect(() => parseConfig({ TABLE_NAME: "agentorg" })).toThrow(/AGENTORG_OPERATOR_KEY/);
  });

  it("keeps only the hash of the operator key", () => {
    const key = "k".repeat(32);

    const config = parseConfig({ TABLE_NAME: "agentorg", AGENTORG_OPERATOR_KEY: key });

    expect(config.operatorKeySha256).toBe(createHash("sha256").update(key).digest("hex"));
    expect(JSON.stringify(config)).not.toContain(key);
  });

  it("accepts a precomputed hash (how deployed functions get it)", () => {
    const hash = "a".repeat(64);

    expect(parseConfig({ TABLE_NAME: "agentorg", AGENTORG_OPERATOR_KEY_SHA256: hash }).operatorKeySha256).toBe(hash);
    expect(() => parseConfig({ TABLE_NAME: "agentorg", AGENTORG_OPERATOR_KEY_SHA256: "XYZ" })).toThrow(/SHA-256/);
  });
});
