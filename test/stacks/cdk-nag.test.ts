import { Aspects } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRoutes, scheduled } from "../../functions/routes";
import { Alerts } from "../../stacks/alerts";
import { Api, API_DOMAIN_STACKS } from "../../stacks/api";
import { createMonitoringStack } from "../../stacks/monitoring";
import { Realtime } from "../../stacks/realtime";
import { Storage } from "../../stacks/storage";
import { createStreamStack } from "../../stacks/stream";
import { createWebStack } from "../../stacks/web";
import { createTestApp, SAMPLE_CONSUMER, type TestApp } from "./app";

interface Finding {
  level: string;
  path: string;
  text: string;
}

let findings: Finding[] = [];
let testApp: TestApp;

beforeAll(async () => {
  // Arrange: every stack, the stream one with a consumer so its mapping, failure queue and redrive are checked.
  // Stage prod: check what production gets (retained, deletion-protected table and logs). Function code
  // does not matter to these checks: stacks.test.ts bundles it.
  testApp = await createTestApp("prod", { bundleFunctions: false });
  const app = testApp.app;
  app.stack(Storage).stack(Alerts).stack(Realtime).stack(Api);
  for (const domain of API_DOMAIN_STACKS) app.stack(domain);
  // With a redrive, so its function, schedule, alarms, topic and key are checked too; and without one;
  // and the manifest's scheduled functions (the reservation reconciler) with their rules.
  const StreamSample = createStreamStack(
    [{ ...SAMPLE_CONSUMER, redrive: { handler: "functions/http/health.handler", everyMinutes: 5 } }, { ...SAMPLE_CONSUMER, name: "plain" }],
    scheduled,
  );
  app.stack(StreamSample).stack(createWebStack(testApp.site)).stack(createMonitoringStack(StreamSample));
  // logIgnores: suppressed findings are reported too (as info), which shows the checks really ran.
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true, logIgnores: true }));

  // Act. Not Annotations.fromStack: it synthesizes again, which SST's app refuses.
  await app.finish();
  findings = app.synth().stacks.flatMap((stack) =>
    stack.messages.map((m) => ({ level: m.level, path: m.id, text: String(m.entry.data) })),
  );
}, 300_000);

afterAll(() => testApp?.dispose());

const isNag = (f: Finding) => f.text.includes("AwsSolutions-");
const ruleOf = (f: Finding) => /AwsSolutions-[A-Za-z0-9]+(\[[^\]]*\])?/.exec(f.text)?.[0] ?? f.text;

describe("cdk-nag AwsSolutions", () => {
  it("finds no unsuppressed error or warning", () => {
    const open = findings.filter((f) => isNag(f) && (f.level === "error" || f.level === "warning"));
    if (open.length) console.error(open.map((f) => `${f.level} ${f.path}\n  ${f.text}`).join("\n\n"));
    expect(open.map((f) => `${f.level} ${f.path} ${ruleOf(f)}`)).toEqual([]);
  });

  it("really checked the app: each HTTP route's missing API Gateway authorizer is reported as suppressed", () => {
    const suppressed = findings.filter(
      (f) => f.level === "info" && f.text.includes("AwsSolutions-APIG4 was triggered but suppressed"),
    );
    // One per manifest route, plus $default, in the Api stack and the domain stacks that add routes to it.
    expect(suppressed.filter((f) => /^\/prod-agentorg-Api[A-Za-z]*\//.test(f.path))).toHaveLength(httpRoutes.length + 1);
  });

  it("gives every suppression a reason", () => {
    const suppressed = findings.filter((f) => f.level === "info" && f.text.includes("was triggered but suppressed"));
    for (const f of suppressed) expect(f.text).toMatch(/Provided reason: "[^"]{20,}/);
  });
});
