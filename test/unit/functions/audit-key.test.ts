import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { loadAuditSigningKey, readSecureParameter } from "../../../functions/lib/audit-key";
import { parseConfig } from "../../../functions/lib/config";

/*
 * Where the consumer's signing key comes from. The SSM path runs the real SDK client against a
 * local HTTP server that answers SSM's JSON protocol (no AWS account here), so what is checked is the
 * request the client sends and the value it returns.
 */

const SEED = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";
let server: Server;
let endpoint: string;
const requests: { target: string | undefined; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      const body = JSON.parse(text) as Record<string, unknown>;
      requests.push({ target: req.headers["x-amz-target"] as string | undefined, body });
      if (body.Name !== "/agentorg/test/audit-signing-key") {
        res.writeHead(400, { "content-type": "application/x-amz-json-1.1", "x-amzn-errortype": "ParameterNotFound" });
        res.end(JSON.stringify({ __type: "ParameterNotFound", message: "not found" }));
        return;
      }
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
      res.end(JSON.stringify({ Parameter: { Name: body.Name, Type: "SecureString", Value: `${SEED}\n`, Version: 1 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("audit signing key", () => {
  it("comes from AGENTORG_AUDIT_SIGNING_KEY when set (local runtime)", async () => {
    const read = async () => "unused";

    expect(await loadAuditSigningKey({ signingKey: SEED, keyParameter: "/x" }, { region: "us-east-1" }, read)).toBe(SEED);
  });

  it("is read from the SSM SecureString parameter, decrypted (AWS)", async () => {
    const key = await loadAuditSigningKey({ keyParameter: "/agentorg/test/audit-signing-key" }, { region: "us-east-1", endpoint });

    expect(key).toBe(SEED);
    expect(requests.at(-1)).toEqual({ target: "AmazonSSM.GetParameter", body: { Name: "/agentorg/test/audit-signing-key", WithDecryption: true } });
  });

  it("fails naming the parameter's error when it does not exist", async () => {
    await expect(readSecureParameter("/missing", { region: "us-east-1", endpoint })).rejects.toThrow(/not found|ParameterNotFound/);
  });

  it("fails naming both settings when neither is set", async () => {
    await expect(loadAuditSigningKey({}, { region: "us-east-1" })).rejects.toThrow(/AGENTORG_AUDIT_SIGNING_KEY or AGENTORG_AUDIT_KEY_PARAMETER/);
  });

  it("is validated at cold start, and the checkpoint schedule has documented defaults", () => {
    const base = { TABLE_NAME: "agentorg", AGENTORG_OPERATOR_KEY_SHA256: "a".repeat(64) };

    expect(() => parseConfig({ ...base, AGENTORG_AUDIT_SIGNING_KEY: "short" })).toThrow(/AGENTORG_AUDIT_SIGNING_KEY/);
    expect(parseConfig(base).audit).toEqual({ checkpointEvery: 100, checkpointSeconds: 300 });
    expect(parseConfig({ ...base, AGENTORG_AUDIT_CHECKPOINT_EVERY: "10", AGENTORG_AUDIT_CHECKPOINT_SECONDS: "60" }).audit).toMatchObject({
      checkpointEvery: 10,
      checkpointSeconds: 60,
    });
  });
});
