import { Template } from "aws-cdk-lib/assertions";
import type { App } from "sst/constructs";
import { getStack } from "sst/constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpRoutes, queues, scheduled, streams, wsRoutes } from "../../functions/routes";
import sstConfig from "../../sst.config";
import { alarmEmail, Alerts } from "../../stacks/alerts";
import { Api, API_DOMAIN_STACKS, HTTP_DOMAINS } from "../../stacks/api";
import { ALARM_THRESHOLDS, createMonitoringStack, MAX_METRICS_PER_ALARM } from "../../stacks/monitoring";
import { Realtime } from "../../stacks/realtime";
import { Storage } from "../../stacks/storage";
import { Stream } from "../../stacks/stream";
import { ACCESS_LOG_DAYS, contentSecurityPolicy, createWebStack, HSTS_SECONDS } from "../../stacks/web";
import { createTestApp, type TestApp } from "./app";

/**
 * The operations side of the stacks (issue 11): the split Api stacks and their sizes, the alarms and
 * the dashboard, the alarm topic, and the dashboard's CloudFront (origin access control, security
 * headers, access logs, a retained bucket). Stage prod, as production gets it. Configuration only, so
 * functions are not bundled (createTestApp's `bundleFunctions: false`).
 */

interface Resource {
  Type: string;
  Properties: Record<string, any>;
  DeletionPolicy?: string;
}

const ALARM_EMAIL = "oncall@example.com";
/** CloudFormation's limit is 500; this leaves room for a domain to grow before it must split again. */
const MAX_RESOURCES_PER_STACK = 400;

let testApp: TestApp;
let app: App;
const templates: Record<string, Template> = {};
const Monitoring = createMonitoringStack(Stream);

beforeAll(async () => {
  process.env.AGENTORG_ALARM_EMAIL = ALARM_EMAIL;
  try {
    testApp = await createTestApp("prod", { bundleFunctions: false });
    app = testApp.app;
    // Added as sst.config.ts adds them (its own stacks() is checked below for the same list).
    app.stack(Storage).stack(Alerts).stack(Realtime).stack(Api);
    for (const domain of API_DOMAIN_STACKS) app.stack(domain);
    app.stack(Stream).stack(createWebStack(testApp.site)).stack(Monitoring);
    await app.finish();
  } finally {
    delete process.env.AGENTORG_ALARM_EMAIL;
  }
  for (const stack of app.node.children) {
    if (stack instanceof (await import("aws-cdk-lib")).Stack) templates[stack.stackName.replace(/^prod-agentorg-/, "")] = Template.fromStack(stack);
  }
}, 300_000);

afterAll(() => testApp?.dispose());

const resourcesOf = (t: Template): Record<string, Resource> => t.toJSON().Resources;
const ofType = (t: Template, type: string) => Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type);
const apiStacks = () => Object.entries(templates).filter(([name]) => name === "Api" || name.startsWith("Api"));

describe("sst.config", () => {
  it("adds the same stacks, in the same order, as this test", () => {
    const added: string[] = [];
    const fake = {
      stack(fn: { name: string }) {
        added.push(fn.name);
        return fake;
      },
    };
    sstConfig.stacks(fake as never);
    expect(added).toEqual(Object.keys(templates));
  });
});

describe("split Api stacks", () => {
  it("keeps every stack well under CloudFormation's 500 resources", () => {
    const counts = Object.fromEntries(Object.entries(templates).map(([name, t]) => [name, Object.keys(resourcesOf(t)).length]));
    console.info("resources per stack:", counts);
    for (const [name, count] of Object.entries(counts)) expect(count, name).toBeLessThan(MAX_RESOURCES_PER_STACK);
  });

  it("splits the HTTP routes by manifest domain, and the domains are exactly the manifest", () => {
    const byDomain = Object.values(HTTP_DOMAINS).flat();
    expect(byDomain).toHaveLength(httpRoutes.length);
    expect(new Set(byDomain)).toEqual(new Set(httpRoutes));
    expect(API_DOMAIN_STACKS.map((s) => s.name)).toEqual(["ApiOrganizations", "ApiRateLimits", "ApiRouting", "ApiTickets", "ApiAgents", "ApiAudit"]);
  });

  it("deploys every manifest route exactly once, each with a function and an invoke permission of its own", () => {
    const routes = apiStacks().flatMap(([name, t]) => ofType(t, "AWS::ApiGatewayV2::Route").map(([id, r]) => ({ name, id, key: r.Properties.RouteKey as string, t, r })));
    expect(routes.map((r) => r.key).sort()).toEqual([...httpRoutes.map((r) => `${r.method} ${r.path}`), "$default"].sort());
    const functions = new Set<string>();
    for (const { name, key, t, r } of routes) {
      const integrationId = JSON.stringify(r.Properties.Target).match(/"Ref":"([^"]+)"/)![1]!;
      const integration = resourcesOf(t)[integrationId]!;
      expect(integration, key).toBeDefined(); // the integration lives with its route
      const uri = JSON.stringify(integration.Properties.IntegrationUri);
      if (integration.Properties.IntegrationType === "HTTP_PROXY") continue; // streaming: its function URL (stacks.test.ts)
      const fn = uri.match(/"Fn::GetAtt":\["([^"]+)","Arn"\]/)![1]!;
      expect(resourcesOf(t)[fn]!.Type, key).toBe("AWS::Lambda::Function");
      functions.add(`${name}/${fn}`);
      const permissions = ofType(t, "AWS::Lambda::Permission").filter(([, p]) => JSON.stringify(p.Properties.FunctionName).includes(`"${fn}"`));
      expect(permissions.length, key).toBeGreaterThan(0);
      expect(permissions[0]![1].Properties.Principal).toBe("apigateway.amazonaws.com");
    }
    expect(functions.size).toBe(routes.filter(({ t, r }) => resourcesOf(t)[JSON.stringify(r.Properties.Target).match(/"Ref":"([^"]+)"/)![1]!]!.Properties.IntegrationType !== "HTTP_PROXY").length);
  });

  it("keeps the public routes with the stage whose throttles name them, and the API's URL output in Api", () => {
    const api = templates.Api!;
    const keys = ofType(api, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties.RouteKey);
    for (const route of httpRoutes.filter((r) => r.auth === "public")) expect(keys).toContain(`${route.method} ${route.path}`);
    expect(api.toJSON().Outputs.ApiUrl).toBeDefined();
    for (const [name, t] of apiStacks()) if (name !== "Api") t.resourceCountIs("AWS::ApiGatewayV2::Api", 0);
  });
});

describe("Alerts", () => {
  it("has one encrypted, SSL-only topic, with the deploy's e-mail subscribed", () => {
    const t = templates.Alerts!;
    t.resourceCountIs("AWS::SNS::Topic", 1);
    const [[topicId, topic]] = ofType(t, "AWS::SNS::Topic") as [[string, Resource]];
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    expect(JSON.stringify(resourcesOf(t))).toContain('"aws:SecureTransport":"false"');
    t.hasResourceProperties("AWS::SNS::Subscription", { Protocol: "email", Endpoint: ALARM_EMAIL, TopicArn: { Ref: topicId } });
    expect(t.toJSON().Outputs.AlarmTopicArn).toBeDefined();
  });

  it("takes the e-mail address from AGENTORG_ALARM_EMAIL, and refuses what is not one", () => {
    expect(alarmEmail({})).toBeUndefined();
    expect(alarmEmail({ AGENTORG_ALARM_EMAIL: " ops@example.com " })).toBe("ops@example.com");
    for (const bad of ["ops", "ops@", "a b@example.com", "ops@example.com,dev@example.com"]) {
      expect(() => alarmEmail({ AGENTORG_ALARM_EMAIL: bad }), bad).toThrow(/AGENTORG_ALARM_EMAIL/);
    }
  });
});

describe("Monitoring", () => {
  const alarms = () => ofType(templates.Monitoring!, "AWS::CloudWatch::Alarm").map(([id, a]): Record<string, any> & { id: string } => ({ ...a.Properties, id }));

  it("sends every alarm to the Alerts topic", () => {
    expect(alarms().length).toBeGreaterThan(0);
    for (const alarm of alarms()) {
      expect(alarm.AlarmActions, alarm.id).toHaveLength(1);
      expect(JSON.stringify(alarm.AlarmActions), alarm.id).toMatch(/AlarmTopic/);
      expect(alarm.AlarmDescription, alarm.id).toMatch(/docs\/operations\.md/);
      // CloudWatch refuses a description over 1,024 characters (the errors alarms list their functions).
      expect(alarm.AlarmDescription.length, alarm.id).toBeLessThanOrEqual(1024);
    }
  });

  it("alarms on errors and on throttles of every function, per manifest domain, with at most 10 metrics each", () => {
    const expectedFunctions = httpRoutes.length + 1 + wsRoutes.length + streams.length + streams.filter((s) => s.redrive).length + scheduled.length + 2 * queues.length;
    for (const kind of ["Errors", "Throttles"]) {
      const covered: string[] = [];
      for (const alarm of alarms().filter((a) => a.id.includes(`Function${kind}`))) {
        const metrics = (alarm.Metrics as { MetricStat?: { Metric: { MetricName: string } } }[]).filter((m) => m.MetricStat);
        expect(metrics.length, alarm.id).toBeLessThanOrEqual(MAX_METRICS_PER_ALARM);
        for (const m of metrics) expect(m.MetricStat!.Metric.MetricName).toBe(kind);
        covered.push(...metrics.map((m) => JSON.stringify(m)));
      }
      expect(new Set(covered).size, kind).toBe(expectedFunctions);
    }
    // One group per manifest domain (the work queue's dispatcher, worker and dead-letter consumer: "Work"); agents (15 routes) and tickets (its routes, the SLA sweep and the triage consumer) need two alarms of each kind.
    const groups = new Set(alarms().filter((a) => a.id.includes("FunctionErrors")).map((a) => a.id.replace(/\d*FunctionErrors.*/, "")));
    expect([...groups].sort()).toEqual(["Agents", "Audit", "Organizations", "Platform", "RateLimits", "Realtime", "Routing", "Tickets", "Work"]);
    const errors = alarms().find((a) => /^Tickets\d*FunctionErrors/.test(a.id))!;
    expect(errors).toMatchObject({ Threshold: ALARM_THRESHOLDS.functionErrors.threshold, EvaluationPeriods: 1, ComparisonOperator: "GreaterThanOrEqualToThreshold", TreatMissingData: "notBreaching" });
  });

  it("alarms on each stream consumer's iterator age", () => {
    const ages = alarms().filter((a) => JSON.stringify(a.Metrics ?? []).includes('"MetricName":"IteratorAge"'));
    expect(ages).toHaveLength(streams.length);
    for (const a of ages) {
      expect(a).toMatchObject({ Threshold: ALARM_THRESHOLDS.iteratorAgeMs.threshold, EvaluationPeriods: ALARM_THRESHOLDS.iteratorAgeMs.evaluationPeriods });
      expect((a.Metrics as any[])[0].MetricStat).toMatchObject({ Stat: "Maximum", Metric: { Namespace: "AWS/Lambda" } });
    }
  });

  it("alarms on the table's and its index's read and write throttle events", () => {
    const [alarm] = alarms().filter((a) => a.id.startsWith("TableThrottles"));
    const names = (alarm!.Metrics as any[]).filter((m) => m.MetricStat).map((m) => `${m.MetricStat.Metric.MetricName}${m.MetricStat.Metric.Dimensions.length}`);
    expect(names.sort()).toEqual(["ReadThrottleEvents1", "ReadThrottleEvents2", "WriteThrottleEvents1", "WriteThrottleEvents2"]);
    expect(alarm).toMatchObject({ Threshold: ALARM_THRESHOLDS.tableThrottles.threshold, EvaluationPeriods: 2 });
  });

  it("alarms on the HTTP API's 5xx rate and the WebSocket API's execution error rate", () => {
    const http = alarms().find((a) => a.id.startsWith("Http5xxRate"))!;
    const expression = (http.Metrics as any[]).find((m) => m.Expression)!.Expression as string;
    expect(expression).toContain(`requests >= ${ALARM_THRESHOLDS.http5xxPercent.minRequests}`);
    expect((http.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName).sort()).toEqual(["5xx", "Count"]);
    expect(http).toMatchObject({ Threshold: ALARM_THRESHOLDS.http5xxPercent.threshold, EvaluationPeriods: 2 });
    const ws = alarms().find((a) => a.id.startsWith("WebSocketErrorRate"))!;
    expect((ws.Metrics as any[]).filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName).sort()).toEqual(["ConnectCount", "ExecutionError", "MessageCount"]);
  });

  it("has one dashboard with the alarms, HTTP latency p50/p99 and the chat functions' durations", () => {
    const t = templates.Monitoring!;
    t.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
    const [[, dashboard]] = ofType(t, "AWS::CloudWatch::Dashboard") as [[string, Resource]];
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const text of ["HTTP API latency", "p50", "p99", "Chat function duration", "Lambda errors per domain", "iterator age", "alarm"]) {
      expect(body, text).toContain(text);
    }
    expect(body).toContain("POST /api/v1/chat/completions p99");
    expect(body).toContain("chat p99");
  });
});

describe("Web (CloudFront)", () => {
  const web = () => templates.Web!;
  const distribution = () => (ofType(web(), "AWS::CloudFront::Distribution")[0]![1] as Resource).Properties.DistributionConfig;

  it("reads the bucket through origin access control, not an origin access identity", () => {
    web().resourceCountIs("AWS::CloudFront::CloudFrontOriginAccessIdentity", 0);
    web().resourceCountIs("AWS::CloudFront::OriginAccessControl", 1);
    const [origin] = distribution().Origins;
    expect(origin.OriginAccessControlId).toBeDefined();
    expect(origin.S3OriginConfig.OriginAccessIdentity).toBe("");
    const policy = JSON.stringify(ofType(web(), "AWS::S3::BucketPolicy").map(([, p]) => p.Properties));
    expect(policy).toContain('"Service":"cloudfront.amazonaws.com"');
    expect(policy).toContain("AWS:SourceArn");
  });

  it("adds HSTS, a CSP that allows only the APIs, and frame, content-type and referrer headers", () => {
    const [[policyId, policy]] = ofType(web(), "AWS::CloudFront::ResponseHeadersPolicy") as [[string, Resource]];
    const headers = policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(headers.StrictTransportSecurity).toMatchObject({ AccessControlMaxAgeSec: HSTS_SECONDS, IncludeSubdomains: true });
    expect(HSTS_SECONDS).toBeGreaterThanOrEqual(365 * 24 * 3600);
    expect(headers.FrameOptions).toMatchObject({ FrameOption: "DENY" });
    expect(headers.ContentTypeOptions).toMatchObject({ Override: true });
    expect(headers.ReferrerPolicy.ReferrerPolicy).toBe("strict-origin-when-cross-origin");
    const csp = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/connect-src 'self' https:\/\/.*wss:\/\//);
    expect(csp).not.toContain("unsafe");
    expect(distribution().DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({ Ref: policyId });
  });

  it("writes access logs to an encrypted, SSL-only bucket that expires them", () => {
    const logging = distribution().Logging;
    expect(logging).toBeDefined();
    const logBucketId = JSON.stringify(logging.Bucket).match(/"(DashboardLogs[A-Za-z0-9]+)"/)![1]!;
    const bucket = resourcesOf(web())[logBucketId]!;
    expect(bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe("AES256");
    expect(bucket.Properties.OwnershipControls.Rules[0].ObjectOwnership).toBe("BucketOwnerPreferred");
    expect(bucket.Properties.LifecycleConfiguration.Rules[0]).toMatchObject({ ExpirationInDays: ACCESS_LOG_DAYS, Status: "Enabled" });
    const policy = ofType(web(), "AWS::S3::BucketPolicy").find(([, p]) => JSON.stringify(p.Properties.Bucket).includes(logBucketId))!;
    expect(JSON.stringify(policy[1].Properties)).toContain('"aws:SecureTransport":"false"');
  });

  it("retains the site and log buckets of a production stage and never empties them", () => {
    web().resourceCountIs("Custom::S3AutoDeleteObjects", 0);
    for (const [id, bucket] of ofType(web(), "AWS::S3::Bucket")) expect(bucket.DeletionPolicy, id).toBe("Retain");
  });

  it("builds the CSP from the two API origins", () => {
    const csp = contentSecurityPolicy({ api: "https://a.example", realtime: "wss://b.example" });
    expect(csp).toContain("connect-src 'self' https://a.example wss://b.example");
    expect(csp).toContain("default-src 'self'");
  });
});
