import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { Stack } from "aws-cdk-lib";
import { CfnFunction } from "aws-cdk-lib/aws-lambda";
import { Function as SstFunction } from "sst/constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Alerts } from "../../stacks/alerts";
import { Api, API_DOMAIN_STACKS } from "../../stacks/api";
import { Monitoring } from "../../stacks/monitoring";
import { Realtime } from "../../stacks/realtime";
import { Storage } from "../../stacks/storage";
import { Stream } from "../../stacks/stream";
import { createWebStack } from "../../stacks/web";
import { type BuiltFunction, buildFunctions } from "../../tools/build-functions";
import { createTestApp, type TestApp } from "./app";

/**
 * `npm run build:functions` writes what `sst deploy` uploads: every deployed function, byte for byte,
 * checked against the assets of an app synthesized offline (SST bundles each function while it
 * synthesizes), and every bundle within the size goal.
 */

interface Deployed {
  handler: string;
  /** The asset's folder in the cloud assembly. */
  asset: string;
}

let testApp: TestApp;
const deployed: Deployed[] = [];
let built: BuiltFunction[];
let out: string;

beforeAll(async () => {
  testApp = await createTestApp("test");
  const app = testApp.app;
  // Every stack, as sst.config.ts adds them.
  app.stack(Storage).stack(Alerts).stack(Realtime).stack(Api);
  for (const domain of API_DOMAIN_STACKS) app.stack(domain);
  app.stack(Stream).stack(createWebStack(testApp.site)).stack(Monitoring);
  await app.finish();
  const assembly = app.synth();
  for (const stack of app.node.children.filter((c): c is Stack => c instanceof Stack)) {
    const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Properties: Record<string, any> }> };
    for (const fn of stack.node.findAll().filter((c): c is SstFunction => c instanceof SstFunction)) {
      const cfn = fn.node.defaultChild as CfnFunction;
      const properties = template.Resources[Stack.of(fn).getLogicalId(cfn)]!.Properties;
      const hash = String(properties.Code.S3Key).replace(/\.zip$/, "");
      deployed.push({ handler: properties.Handler as string, asset: join(assembly.directory, `asset.${hash}`) });
    }
  }
  out = mkdtempSync(join(tmpdir(), "agentorg-built-"));
  built = await buildFunctions(out);
}, 600_000); // Bundles every function twice (SST's synthesis, then build:functions).

afterAll(() => {
  testApp?.dispose();
  if (out) rmSync(out, { recursive: true, force: true });
});

describe("npm run build:functions", () => {
  it("builds every deployed function (each has its own handler export), once", () => {
    expect(built.map((b) => b.handler).sort()).toEqual(deployed.map((d) => d.handler).sort());
    expect(new Set(built.map((b) => b.id)).size).toBe(built.length);
  });

  it("writes each function's entry byte for byte as SST bundles it for deploy", () => {
    for (const fn of deployed) {
      const mine = built.find((b) => b.handler === fn.handler)!;
      const theirs = join(fn.asset, mine.assetEntry);
      expect(existsSync(theirs), `${fn.handler}: ${mine.assetEntry} in its asset`).toBe(true);
      expect(readFileSync(join(out, mine.id, "index.mjs")).equals(readFileSync(theirs)), `${fn.handler} differs from SST's bundle`).toBe(true);
    }
  });

  it("keeps every bundle under 1 MB, with neither zod's other locales nor the SSM client in any", () => {
    for (const fn of built) expect(fn.bytes, fn.id).toBeLessThanOrEqual(1_000_000);
    for (const fn of built) {
      const code = readFileSync(join(out, fn.id, "index.mjs"), "utf8");
      // The German locale's message for an invalid input; English is zod's own.
      expect(code.includes("Ungültige Eingabe"), `${fn.id} carries zod's German locale`).toBe(false);
      expect(code.includes("AmazonSSM.GetParameter"), `${fn.id} bundles the SSM client`).toBe(false);
    }
  });

  it("loads openai and the classifier only in the functions that call models, and the weights' data besides only in the feedback calibration", () => {
    const modelCallers = new Set(["functions/http/chat-completions", "functions/ws/chat", "functions/queue/agent-worker"]);
    // The calibration from feedback calls no model and scores nothing, but the threshold in force may be
    // read off the router's calibration curve, which ships inside the weights.
    const weightReaders = new Set([...modelCallers, "functions/http/routing-calibration"]);
    // A stretch of the weights as the bundler packs them (stacks/bundling.ts gzipJson), past gzip's header.
    const packed = gzipSync(JSON.stringify(JSON.parse(readFileSync("core/routing/weights.json", "utf8"))), { level: 9 }).toString("base64").slice(100, 300);
    for (const fn of built) {
      const code = readFileSync(join(out, fn.id, "index.mjs"), "utf8");
      const file = fn.handler.replace(/\.[^.]+$/, "");
      expect(code.includes("OPENAI_BASE_URL"), `${fn.id}: openai`).toBe(modelCallers.has(file));
      expect(code.includes("agentorg-routing-weights/1"), `${fn.id}: classifier`).toBe(modelCallers.has(file));
      expect(code.includes(packed), `${fn.id}: weights`).toBe(weightReaders.has(file));
    }
  });
});
