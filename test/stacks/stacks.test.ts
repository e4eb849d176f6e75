import { createHash } from "node:crypto";
import { Match, Template } from "aws-cdk-lib/assertions";
import type { App } from "sst/constructs";
import { getStack } from "sst/constructs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTableInput, TABLE_DEFINITION } from "../../core/db/table";
import {
  FUNCTION_TIMEOUT_SECONDS,
  functionTimeoutSeconds,
  isRateLimited,
  type Permission,
  runtimePermissions,
  STREAMING_TIMEOUT_SECONDS,
} from "../../functions/manifest.types";
import { fallback, httpRoutes, queues, scheduled, streams, wsRoutes } from "../../functions/routes";
import sstConfig from "../../sst.config";
import { Alerts } from "../../stacks/alerts";
import { Api, API_DOMAIN_STACKS, API_THROTTLE, EXPOSED_HEADERS, PUBLIC_ROUTE_THROTTLE, STREAMING_TIMEOUT, streamingConcurrency } from "../../stacks/api";
import { FUNCTION_DEFAULTS, isEphemeralStage, operatorKeySha256 } from "../../stacks/defaults";
import { CONNECTION_ACTIONS, RATE_LIMIT_LEADING_KEYS, TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS, WORK_QUEUE_ACTIONS } from "../../stacks/permissions";
import { workDispatcher, workQueue } from "../../functions/manifest/work";
import { Realtime, WS_CONNECT_THROTTLE, WS_THROTTLE } from "../../stacks/realtime";
import { Storage } from "../../stacks/storage";
import {
  auditSigningKeyParameter,
  createStreamStack,
  REDRIVE_ALARMS,
  REDRIVE_FUNCTION,
  REDRIVE_QUEUE_ACTIONS,
  Stream,
  STREAM_READ_ACTIONS,
  WORK_QUEUE_ALARMS,
} from "../../stacks/stream";
import { createWebStack } from "../../stacks/web";
import { createTestApp, OPERATOR_KEY, SAMPLE_CONSUMER, type TestApp } from "./app";

/** Offline synthesis of every stack (ARCHITECTURE.md, "Deployment"), checked against the manifest. */

interface Resource {
  Type: string;
  Properties: Record<string, any>;
  DeletionPolicy?: string;
}
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const StreamSample = createStreamStack([SAMPLE_CONSUMER]);
const StreamEmpty = createStreamStack([]);
let Web: ReturnType<typeof createWebStack>;

let testApp: TestApp;
let app: App;
type Name = "storage" | "alerts" | "realtime" | "api" | "stream" | "streamSample" | "streamEmpty" | "web";
const templates = {} as Record<Name, Template>;
/** The stacks adding each domain's routes to the HTTP API of the Api stack. */
let domainTemplates: Template[] = [];
/** Every stack holding HTTP routes: Api (the API, platform and public routes, $default) and the domain stacks. */
const apiTemplates = () => [templates.api, ...domainTemplates];
/** The stack holding a route key; each route key is in exactly one. */
function apiOf(routeKey: string): Template {
  const holding = apiTemplates().filter((t) => ofType(t, "AWS::ApiGatewayV2::Route").some(([, r]) => r.Properties.RouteKey === routeKey));
  if (holding.length !== 1) throw new Error(`${routeKey} is in ${holding.length} stacks`);
  return holding[0]!;
}

beforeAll(async () => {
  testApp = await createTestApp("test");
  app = testApp.app;
  Web = createWebStack(testApp.site);
  app.stack(Storage).stack(Alerts).stack(Realtime).stack(Api);
  for (const domain of API_DOMAIN_STACKS) app.stack(domain);
  app
    .stack(Stream)
    // Whatever the manifest's consumers: one sample consumer, and none at all.
    .stack(StreamSample, { id: "StreamSample" })
    .stack(StreamEmpty, { id: "StreamEmpty" })
    .stack(Web);
  await app.finish();
  templates.storage = Template.fromStack(getStack(Storage));
  templates.realtime = Template.fromStack(getStack(Realtime));
  templates.alerts = Template.fromStack(getStack(Alerts));
  templates.api = Template.fromStack(getStack(Api));
  domainTemplates = API_DOMAIN_STACKS.map((s) => Template.fromStack(getStack(s)));
  templates.stream = Template.fromStack(getStack(Stream));
  templates.streamSample = Template.fromStack(getStack(StreamSample));
  templates.streamEmpty = Template.fromStack(getStack(StreamEmpty));
  templates.web = Template.fromStack(getStack(Web));
}, 600_000); // Bundles every function (55, ~2.7 MB each): about a minute on 2 idle cores, more under load.

afterAll(() => testApp?.dispose());

// ---------------------------------------------------------------------------------------------
// Template helpers: follow a route to its function, and a function to its role's statements.

const resourcesOf = (t: Template): Record<string, Resource> => t.toJSON().Resources;
const ofType = (t: Template, type: string) => Object.entries(resourcesOf(t)).filter(([, r]) => r.Type === type);
const actionsOf = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourceList = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

/**
 * The logical ids of the Lambda functions a value points at (`Fn::GetAtt: [fn, "Arn"]` anywhere inside,
 * or a function URL's `Fn::GetAtt: [url, "FunctionUrl"]`, followed to its function).
 */
function functionRefs(t: Template, value: unknown): string[] {
  const found: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (v && typeof v === "object") {
      const getAtt = (v as Record<string, unknown>)["Fn::GetAtt"];
      const targetId = Array.isArray(getAtt) ? (getAtt[0] as string) : undefined;
      const target = targetId ? resourcesOf(t)[targetId] : undefined;
      if (target?.Type === "AWS::Lambda::Function") found.push(targetId!);
      if (target?.Type === "AWS::Lambda::Url") visit(target.Properties.TargetFunctionArn);
      Object.values(v).forEach(visit);
    }
  };
  visit(value);
  return found;
}

/** The function behind a route key (Route -> Integration -> IntegrationUri). */
function functionOfRoute(t: Template, routeKey: string): string {
  const route = ofType(t, "AWS::ApiGatewayV2::Route").find(([, r]) => r.Properties.RouteKey === routeKey);
  if (!route) throw new Error(`No route ${routeKey}`);
  const integrationId = JSON.stringify(route[1].Properties.Target).match(/"Ref":"([^"]+)"/)?.[1];
  const integration = resourcesOf(t)[integrationId!];
  const [fn] = functionRefs(t, integration?.Properties.IntegrationUri);
  if (!fn) throw new Error(`No function behind ${routeKey}`);
  return fn;
}

/** Every statement of every policy attached to the function's role. */
function statementsOf(t: Template, functionId: string): Statement[] {
  const roleId = resourcesOf(t)[functionId]!.Properties.Role["Fn::GetAtt"][0];
  return ofType(t, "AWS::IAM::Policy")
    .filter(([, p]) => p.Properties.Roles.some((r: { Ref?: string }) => r.Ref === roleId))
    .flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const ALWAYS = ["logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords"];

/** What a route's permissions must turn into: exactly these actions (plus logging and tracing). */
function expectedActions(permissions: readonly Permission[]): string[] {
  const actions = new Set(ALWAYS);
  const add = (list: readonly string[]) => list.forEach((a) => actions.add(a));
  if (permissions.includes("table:read") || permissions.includes("table:write")) add(TABLE_READ_ACTIONS);
  if (permissions.includes("table:write")) add(TABLE_WRITE_ACTIONS);
  if (permissions.includes("table:rate-limits")) add(["dynamodb:UpdateItem"]);
  if (permissions.includes("connections:manage")) add(CONNECTION_ACTIONS);
  if (permissions.includes("models:keys")) add(["ssm:GetParameter"]);
  return [...actions].sort();
}

const actionsOfFunction = (t: Template, fn: string) => [...new Set(statementsOf(t, fn).flatMap(actionsOf))].sort();

/** Manifest functions: everything but SST's per-stack custom-resource handler. */
const manifestFunctions = (t: Template) =>
  ofType(t, "AWS::Lambda::Function").filter(([id]) => !id.startsWith("CustomResourceHandler"));

const httpRouteKeys = httpRoutes.map((r) => `${r.method} ${r.path}`);

// ---------------------------------------------------------------------------------------------

describe("sst.config", () => {
  it("names the app agentorg in us-east-1", async () => {
    expect(await sstConfig.config()).toEqual({ name: "agentorg", region: "us-east-1" });
  });
});

describe("Storage", () => {
  it("creates one table from TABLE_DEFINITION", () => {
    const t = templates.storage;
    t.resourceCountIs("AWS::DynamoDB::Table", 1);
    t.hasResourceProperties("AWS::DynamoDB::Table", {
      KeySchema: [
        { AttributeName: TABLE_DEFINITION.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE_DEFINITION.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "gsi1",
          KeySchema: [
            { AttributeName: "gsi1pk", KeyType: "HASH" },
            { AttributeName: "gsi1sk", KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
      TimeToLiveSpecification: { AttributeName: "ttl", Enabled: true },
      StreamSpecification: { StreamViewType: "NEW_AND_OLD_IMAGES" },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      BillingMode: "PAY_PER_REQUEST",
    });
  });

  it("declares the same attributes and indexes as the local runtime's CreateTable", () => {
    const [[, table]] = ofType(templates.storage, "AWS::DynamoDB::Table") as [[string, Resource]];
    const local = createTableInput("local");
    type Named = { AttributeName?: string };
    const byName = (a: Named, b: Named) => a.AttributeName!.localeCompare(b.AttributeName!);
    const deployed = [...table.Properties.AttributeDefinitions].sort(byName);
    expect(deployed).toEqual([...local.AttributeDefinitions!].sort(byName));
    expect(table.Properties.KeySchema).toEqual(local.KeySchema);
    expect(table.Properties.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
  });

  it("lets the ephemeral test stage be removed with its table", () => {
    const [[, table]] = ofType(templates.storage, "AWS::DynamoDB::Table") as [[string, Resource]];
    expect(table.DeletionPolicy).toBe("Delete");
    expect(table.Properties.DeletionProtectionEnabled).toBe(false);
  });

  it("treats only dev, test, local, ci and pr-<n> stages as ephemeral (the rest keep their table)", () => {
    for (const stage of ["dev", "test", "local", "ci", "pr-42"]) expect(isEphemeralStage(stage), stage).toBe(true);
    for (const stage of ["prod", "production", "staging", "alice", "pr-x"]) expect(isEphemeralStage(stage), stage).toBe(false);
  });
});

describe("functions", () => {
  it("has one function per manifest route, on nodejs22.x and arm64", () => {
    expect(apiTemplates().flatMap(manifestFunctions)).toHaveLength(httpRoutes.length + 1); // + $default
    expect(manifestFunctions(templates.realtime)).toHaveLength(wsRoutes.length);
    // Each consumer, plus the redrive of its failure queue where it has one, plus the scheduled functions.
    // And each queue's worker and dead-letter consumer.
    expect(manifestFunctions(templates.stream)).toHaveLength(streams.length + streams.filter((c) => c.redrive).length + scheduled.length + 2 * queues.length);
    expect(manifestFunctions(templates.streamSample)).toHaveLength(1);
    expect(manifestFunctions(templates.streamEmpty)).toHaveLength(0);
    for (const t of [...apiTemplates(), templates.realtime, templates.streamSample]) {
      for (const [, fn] of manifestFunctions(t)) {
        expect(fn.Properties.Runtime).toBe("nodejs22.x");
        expect(fn.Properties.Architectures).toEqual(["arm64"]);
        expect(fn.Properties.LoggingConfig?.LogGroup).toBeDefined();
      }
    }
  });

  it("stops HTTP and WebSocket functions within API Gateway's 30 s, streaming ones later", () => {
    for (const route of httpRoutes) {
      const t = apiOf(`${route.method} ${route.path}`);
      const fn = resourcesOf(t)[functionOfRoute(t, `${route.method} ${route.path}`)]!;
      expect(fn.Properties.Timeout, route.path).toBe(route.streaming ? 300 : 29);
    }
    for (const [, fn] of manifestFunctions(templates.realtime)) expect(fn.Properties.Timeout).toBe(29);
  });

  it("gives them the table, the operator key's hash and the log level, never the plaintext key", () => {
    const hash = createHash("sha256").update(OPERATOR_KEY).digest("hex");
    for (const t of [...apiTemplates(), templates.realtime, templates.streamSample]) {
      for (const [, fn] of manifestFunctions(t)) {
        const env = fn.Properties.Environment.Variables;
        expect(env.TABLE_NAME).toBeDefined();
        expect(env.AGENTORG_OPERATOR_KEY_SHA256).toBe(hash);
        expect(env.POWERTOOLS_LOG_LEVEL).toBe("INFO");
        expect(env).not.toHaveProperty("AGENTORG_OPERATOR_KEY");
      }
    }
    for (const t of Object.values(templates)) expect(JSON.stringify(t.toJSON())).not.toContain(OPERATOR_KEY);
  });

  it("points the HTTP functions at the WebSocket management endpoint", () => {
    for (const [, fn] of apiTemplates().flatMap(manifestFunctions)) {
      expect(fn.Properties.Environment.Variables.AGENTORG_WS_ENDPOINT).toBeDefined();
    }
    const endpoint = JSON.stringify(templates.realtime.toJSON().Outputs.WebSocketManagementEndpoint.Value);
    expect(endpoint).toMatch(/https:\/\/.*execute-api\.us-east-1\..*\/test/);
  });

  it("gives each role exactly its own log group, no managed policy", () => {
    for (const t of [...apiTemplates(), templates.realtime, templates.streamSample]) {
      for (const [id] of manifestFunctions(t)) {
        const roleId = resourcesOf(t)[id]!.Properties.Role["Fn::GetAtt"][0];
        expect(resourcesOf(t)[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
        const logs = statementsOf(t, id).filter((s) => actionsOf(s).some((a) => a.startsWith("logs:")));
        expect(logs).toHaveLength(1);
        expect(logs[0]!.Resource).toEqual({ "Fn::GetAtt": [expect.stringMatching(/Logs/), "Arn"] });
      }
    }
  });

  it("fails synthesis, naming the variable, without AGENTORG_OPERATOR_KEY", () => {
    expect(() => operatorKeySha256({})).toThrow(/AGENTORG_OPERATOR_KEY is not set/);
    expect(() => operatorKeySha256({ AGENTORG_OPERATOR_KEY: "short" })).toThrow(
      /AGENTORG_OPERATOR_KEY must be at least 16/,
    );
    // Through a stack, as `sst deploy` would meet it (the templates above are already synthesized).
    delete process.env.AGENTORG_OPERATOR_KEY;
    try {
      expect(() => app.stack(function ApiWithoutKey(ctx) {
        return Api(ctx);
      })).toThrow(/AGENTORG_OPERATOR_KEY is not set/);
    } finally {
      process.env.AGENTORG_OPERATOR_KEY = OPERATOR_KEY;
    }
  });
});

describe("Api", () => {
  it("has a route for every manifest HTTP route, and $default for the rest", () => {
    const keys = apiTemplates().flatMap((t) => ofType(t, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties.RouteKey)).sort();
    expect(keys).toEqual([...httpRouteKeys, "$default"].sort());
  });

  it("routes each key to the manifest's handler", () => {
    const handlerOf = (key: string) => resourcesOf(apiOf(key))[functionOfRoute(apiOf(key), key)]!;
    // SST bundles `functions/http/organizations.list` into `functions/http/organizations.list` (.mjs).
    // A streaming route's function runs its streamified export behind the function URL.
    for (const route of httpRoutes) {
      expect(handlerOf(`${route.method} ${route.path}`).Properties.Handler).toBe(route.streaming ? (route.streamHandler ?? route.handler) : route.handler);
    }
    expect(handlerOf("$default").Properties.Handler).toBe(fallback.handler);
  });

  it("serves streaming routes from a response-streaming function URL, proxied by the API route", () => {
    const streaming = httpRoutes.filter((r) => r.streaming);
    expect(apiTemplates().flatMap((t) => ofType(t, "AWS::Lambda::Url"))).toHaveLength(streaming.length);
    for (const route of streaming) {
      const key = `${route.method} ${route.path}`;
      const t = apiOf(key);
      const fn = functionOfRoute(t, key);
      // The function, its URL and the route proxying to it live in one stack.
      const [, url] = ofType(t, "AWS::Lambda::Url").find(([, u]) => functionRefs(t, u.Properties.TargetFunctionArn)[0] === fn)!;
      expect(url.Properties).toMatchObject({ AuthType: "NONE", InvokeMode: "RESPONSE_STREAM" });
      expect(url.Properties.Cors.AllowMethods).toEqual([route.method]);
      const [, route_] = ofType(t, "AWS::ApiGatewayV2::Route").find(([, r]) => r.Properties.RouteKey === key)!;
      const integrationId = JSON.stringify(route_.Properties.Target).match(/"Ref":"([^"]+)"/)![1]!;
      const integration = resourcesOf(t)[integrationId]!.Properties;
      expect(integration.IntegrationType).toBe("HTTP_PROXY");
      expect(JSON.stringify(integration.IntegrationUri)).toContain(route.path.slice(1));
    }
    const outputs = apiTemplates().flatMap((t) => Object.keys(t.toJSON().Outputs ?? {}));
    expect(outputs.filter((o) => o.startsWith("Streaming"))).toHaveLength(streaming.length);
  });

  it("grants each function exactly its route's permissions, and the rate limiter's to every authenticated one", () => {
    for (const route of httpRoutes) {
      const t = apiOf(`${route.method} ${route.path}`);
      const fn = functionOfRoute(t, `${route.method} ${route.path}`);
      const actions = actionsOfFunction(t, fn);
      expect(actions, `${route.method} ${route.path}`).toEqual(expectedActions(runtimePermissions(route)));
      // The wrapper authenticates (reads the key and its organization) and rate-limits every non-public route.
      expect(runtimePermissions(route).includes("table:rate-limits"), `${route.method} ${route.path}`).toBe(route.auth !== "public");
      if (route.auth !== "public") expect(runtimePermissions(route), `${route.method} ${route.path}`).toContain("table:read");
    }
    expect(actionsOfFunction(templates.api, functionOfRoute(templates.api, "$default"))).toEqual(expectedActions([]));
  });

  it("keeps read-only routes read-only but for their rate-limit buckets, and routes without permissions away from the table", () => {
    const readOnly = httpRoutes.filter(
      (r) => r.permissions.includes("table:read") && !r.permissions.includes("table:write"),
    );
    const none = httpRoutes.filter((r) => runtimePermissions(r).length === 0);
    expect(readOnly.length).toBeGreaterThan(0);
    expect(none.length).toBeGreaterThan(0);
    for (const route of readOnly) {
      const t = apiOf(`${route.method} ${route.path}`);
      const fn = functionOfRoute(t, `${route.method} ${route.path}`);
      const writes = statementsOf(t, fn).filter((st) => actionsOf(st).some((a) => (TABLE_WRITE_ACTIONS as readonly string[]).includes(a)));
      if (!isRateLimited(route)) {
        expect(writes, `${route.method} ${route.path}`).toEqual([]);
        continue;
      }
      // One write, UpdateItem, and only on items whose partition key is a rate-limit bucket.
      expect(writes, `${route.method} ${route.path}`).toHaveLength(1);
      expect(actionsOf(writes[0]!)).toEqual(["dynamodb:UpdateItem"]);
      expect(writes[0]!.Condition).toEqual({ "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [...RATE_LIMIT_LEADING_KEYS] } });
    }
    for (const route of none) {
      const t = apiOf(`${route.method} ${route.path}`);
      const actions = actionsOfFunction(t, functionOfRoute(t, `${route.method} ${route.path}`));
      expect(actions.filter((a) => a.startsWith("dynamodb:"))).toEqual([]);
    }
  });

  it("scopes table access to the table and its gsi1 index, without wildcards; only X-Ray gets *", () => {
    for (const t of apiTemplates()) for (const [id] of manifestFunctions(t)) {
      for (const statement of statementsOf(t, id)) {
        const resources = JSON.stringify(statement.Resource);
        if (actionsOf(statement).some((a) => a.startsWith("dynamodb:"))) {
          expect(resources).not.toContain("*");
          if (actionsOf(statement).includes("dynamodb:Query")) expect(resources).toContain("/index/gsi1");
        }
        if (resourceList(statement).includes("*")) {
          expect(actionsOf(statement).every((a) => a.startsWith("xray:"))).toBe(true);
        }
      }
    }
  });

  it("allows any origin with the authorization and content-type headers, exposing the request id", () => {
    templates.api.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      ProtocolType: "HTTP",
      CorsConfiguration: Match.objectLike({
        AllowOrigins: ["*"],
        AllowHeaders: ["authorization", "content-type"],
        ExposeHeaders: EXPOSED_HEADERS,
      }),
    });
    expect(EXPOSED_HEADERS).toContain("x-request-id");
  });

  it("logs access and throttles the stage, and outputs the URL", () => {
    templates.api.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      DefaultRouteSettings: Match.objectLike({ ThrottlingRateLimit: API_THROTTLE.rate, ThrottlingBurstLimit: API_THROTTLE.burst }),
    });
    expect(templates.api.toJSON().Outputs.ApiUrl).toBeDefined();
  });

  it("keeps the stage ceiling above every tier's organization limit, so a tenant within its limits never meets it", async () => {
    const { TIER_PLANS } = await import("../../core/tenants/tiers");
    for (const plan of Object.values(TIER_PLANS)) {
      expect(API_THROTTLE.rate).toBeGreaterThan(plan.rateLimits.organization.requestsPerSecond);
      expect(API_THROTTLE.burst).toBeGreaterThanOrEqual(plan.rateLimits.organization.burst);
    }
  });

  it("gives the routes nobody can be held to account for (no key, unknown paths) a small ceiling of their own, set after the routes exist", () => {
    const [[stageId, stage]] = ofType(templates.api, "AWS::ApiGatewayV2::Stage") as [[string, Resource & { DependsOn?: string[] }]];
    const publicKeys = [...httpRoutes.filter((r) => r.auth === "public").map((r) => `${r.method} ${r.path}`), "$default"];
    const settings = stage.Properties.RouteSettings as Record<string, { ThrottlingRateLimit: number; ThrottlingBurstLimit: number }>;

    expect(publicKeys.length).toBeGreaterThan(1);
    expect(Object.keys(settings).sort()).toEqual(publicKeys.sort());
    for (const key of publicKeys) {
      expect(settings[key], key).toEqual({ ThrottlingRateLimit: PUBLIC_ROUTE_THROTTLE.rate, ThrottlingBurstLimit: PUBLIC_ROUTE_THROTTLE.burst });
    }
    const routeIds = ofType(templates.api, "AWS::ApiGatewayV2::Route").map(([id]) => id);
    expect(stageId).toBeDefined();
    expect(stage.DependsOn).toEqual(expect.arrayContaining(routeIds));
  });

  it("reserves no concurrency for the streaming functions unless the deploy asks for it", () => {
    const streamingFns = httpRoutes.filter((r) => r.streaming).map((r) => resourcesOf(apiOf(`${r.method} ${r.path}`))[functionOfRoute(apiOf(`${r.method} ${r.path}`), `${r.method} ${r.path}`)]!);
    expect(streamingFns.length).toBeGreaterThan(0);
    for (const fn of streamingFns) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
    expect(streamingConcurrency({})).toBeUndefined();
    expect(streamingConcurrency({ AGENTORG_STREAMING_CONCURRENCY: "50" })).toBe(50);
    for (const bad of ["0", "-1", "1.5", "many"]) expect(() => streamingConcurrency({ AGENTORG_STREAMING_CONCURRENCY: bad })).toThrow(/AGENTORG_STREAMING_CONCURRENCY/);
  });
});

describe("Realtime", () => {
  it("has a route for every manifest WebSocket route key, selected on $request.body.action", () => {
    const keys = ofType(templates.realtime, "AWS::ApiGatewayV2::Route").map(([, r]) => r.Properties.RouteKey).sort();
    expect(keys).toEqual(wsRoutes.map((r) => r.routeKey).sort());
    templates.realtime.hasResourceProperties("AWS::ApiGatewayV2::Api", {
      ProtocolType: "WEBSOCKET",
      RouteSelectionExpression: "$request.body.action",
    });
  });

  it("grants each function exactly its route's permissions (no blanket ManageConnections), and the rate limiter's but to $disconnect", () => {
    for (const route of wsRoutes) {
      const fn = functionOfRoute(templates.realtime, route.routeKey);
      expect(actionsOfFunction(templates.realtime, fn), route.routeKey).toEqual(expectedActions(runtimePermissions(route)));
      expect(isRateLimited(route), route.routeKey).toBe(route.routeKey !== "$disconnect");
    }
  });

  it("throttles every route of the stage, $connect lower, set after the routes exist", () => {
    const [[, stage]] = ofType(templates.realtime, "AWS::ApiGatewayV2::Stage") as [[string, Resource & { DependsOn?: string[] }]];

    expect(stage.Properties.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: WS_THROTTLE.rate, ThrottlingBurstLimit: WS_THROTTLE.burst });
    expect(stage.Properties.RouteSettings).toEqual({ $connect: { ThrottlingRateLimit: WS_CONNECT_THROTTLE.rate, ThrottlingBurstLimit: WS_CONNECT_THROTTLE.burst } });
    expect(stage.DependsOn).toEqual(expect.arrayContaining(ofType(templates.realtime, "AWS::ApiGatewayV2::Route").map(([id]) => id)));
  });

  it("scopes ManageConnections to this API's stage and the POST/GET/DELETE @connections methods", () => {
    const managing = wsRoutes.filter((r) => r.permissions.includes("connections:manage"));
    expect(managing.length).toBeGreaterThan(0);
    for (const route of managing) {
      const fn = functionOfRoute(templates.realtime, route.routeKey);
      const statement = statementsOf(templates.realtime, fn).find((s) =>
        actionsOf(s).includes("execute-api:ManageConnections"),
      )!;
      const resources = resourceList(statement).map((r) => JSON.stringify(r));
      expect(resources).toHaveLength(3);
      for (const method of ["POST", "GET", "DELETE"]) {
        const arn = resources.find((r) => r.includes(`/test/${method}/@connections/*`));
        expect(arn, method).toContain("RealtimeApi"); // this API's id, not a wildcard
      }
    }
  });

  it("logs access on its stage and outputs the URLs", () => {
    templates.realtime.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "test",
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    expect(Object.keys(templates.realtime.toJSON().Outputs)).toEqual(
      expect.arrayContaining(["WebSocketUrl", "WebSocketManagementEndpoint"]),
    );
  });
});

describe("Stream", () => {
  it("synthesizes an empty consumer list to no function, mapping or queue", () => {
    templates.streamEmpty.resourceCountIs("AWS::Lambda::EventSourceMapping", 0);
    templates.streamEmpty.resourceCountIs("AWS::SQS::Queue", 0);
  });

  it("maps each manifest consumer with its handler, filter patterns and batch size", () => {
    const t = templates.stream;
    // Plus each work queue's two mappings and two queues (stacks/stream.ts, tested below).
    t.resourceCountIs("AWS::Lambda::EventSourceMapping", streams.length + 2 * queues.length);
    t.resourceCountIs("AWS::SQS::Queue", streams.length + 2 * queues.length);
    for (const consumer of streams) {
      const [, mapping] = ofType(t, "AWS::Lambda::EventSourceMapping").find(
        ([, m]) => resourcesOf(t)[m.Properties.FunctionName.Ref]?.Properties.Handler === consumer.handler,
      )!;
      expect(mapping.Properties).toMatchObject({
        BatchSize: consumer.batchSize,
        StartingPosition: "TRIM_HORIZON",
        FilterCriteria: { Filters: consumer.filterPatterns.map((p) => ({ Pattern: JSON.stringify(p) })) },
      });
    }
  });

  it("lets only the audit consumer (and its redrive, which runs it) read its signing key parameter", () => {
    const t = templates.stream;
    for (const [id, fn] of manifestFunctions(t)) {
      const isAudit = ["functions/stream/audit.handler", "functions/stream/audit-redrive.handler"].includes(fn.Properties.Handler);
      const env = fn.Properties.Environment.Variables;
      // (The worker reads the model keys' parameters: not the signing key.)
      const ssm = statementsOf(t, id).filter((s) => actionsOf(s).includes("ssm:GetParameter") && JSON.stringify(s.Resource).includes("audit-signing-key"));
      if (isAudit) {
        expect(env.AGENTORG_AUDIT_KEY_PARAMETER).toBe(auditSigningKeyParameter("test"));
        expect(JSON.stringify(ssm.map((s) => s.Resource))).toContain(":parameter/agentorg/test/audit-signing-key");
      } else {
        expect(env).not.toHaveProperty("AGENTORG_AUDIT_KEY_PARAMETER");
        expect(ssm).toEqual([]);
      }
    }
    const [, sample] = manifestFunctions(templates.streamSample)[0]!;
    expect(sample.Properties.Environment.Variables).not.toHaveProperty("AGENTORG_AUDIT_KEY_PARAMETER");
  });

  it("maps a consumer to the table stream with its filter, batch size and retry policy", () => {
    const t = templates.streamSample;
    t.resourceCountIs("AWS::Lambda::EventSourceMapping", 1);
    t.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      EventSourceArn: Match.anyValue(),
      StartingPosition: "TRIM_HORIZON",
      BatchSize: SAMPLE_CONSUMER.batchSize,
      BisectBatchOnFunctionError: true,
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 6 * 3600,
      FilterCriteria: { Filters: SAMPLE_CONSUMER.filterPatterns.map((p) => ({ Pattern: JSON.stringify(p) })) },
      DestinationConfig: { OnFailure: { Destination: { "Fn::GetAtt": [Match.stringLikeRegexp("Failures"), "Arn"] } } },
    });
    const [[, mapping]] = ofType(t, "AWS::Lambda::EventSourceMapping") as [[string, Resource]];
    expect(JSON.stringify(mapping.Properties.EventSourceArn)).toMatch(/StreamArn/);
  });

  it("sends failed batches to an encrypted, SSL-only queue", () => {
    const t = templates.streamSample;
    t.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    t.hasResourceProperties("AWS::SQS::QueuePolicy", {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      }),
    });
  });

  it("grants the consumer its permissions, the stream (not *) and its failure queue", () => {
    const t = templates.streamSample;
    const [[fn]] = manifestFunctions(t) as [[string, Resource]];
    const statements = statementsOf(t, fn);
    const actions = actionsOfFunction(t, fn);
    const wanted = [...expectedActions(SAMPLE_CONSUMER.permissions), ...STREAM_READ_ACTIONS, "sqs:SendMessage"];
    expect(actions).toEqual(expect.arrayContaining(wanted));
    const streamRead = statements.find((s) => actionsOf(s).includes("dynamodb:GetRecords"))!;
    expect(JSON.stringify(streamRead.Resource)).toMatch(/StreamArn/);
    expect(resourceList(streamRead)).not.toContain("*");
  });
});

describe("Stream: the agents' work queue", () => {
  const spec = workQueue;
  const queuesOf = (t: Template) => ofType(t, "AWS::SQS::Queue");
  const fnByHandler = (t: Template, handler: string) => manifestFunctions(t).find(([, fn]) => fn.Properties.Handler === handler)!;

  it("is an SSE, SSL-only queue whose visibility timeout is the worker's, redriving to its dead-letter queue after maxReceiveCount", () => {
    const t = templates.stream;
    const [, queue] = queuesOf(t).find(([, q]) => q.Properties.RedrivePolicy?.maxReceiveCount === spec.maxReceiveCount)!;
    expect(queue.Properties).toMatchObject({ SqsManagedSseEnabled: true, VisibilityTimeout: spec.visibilityTimeoutSeconds });
    const dlqId = queue.Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0];
    expect(resourcesOf(t)[dlqId]!.Properties).toMatchObject({ SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 24 * 3600 });
    // SSL only: each queue's policy denies insecure transport.
    expect(ofType(t, "AWS::SQS::QueuePolicy").length).toBeGreaterThanOrEqual(2);
  });

  it("feeds the worker (15 minutes) and the dead-letter consumer through SQS mappings that report batch item failures, with a maximum concurrency", () => {
    const t = templates.stream;
    const [workerId, worker] = fnByHandler(t, spec.handler);
    const [deadId, dead] = fnByHandler(t, spec.deadLetter.handler);
    expect(worker.Properties.Timeout).toBe(spec.timeoutSeconds);
    expect(dead.Properties.Timeout).toBe(spec.deadLetter.timeoutSeconds);
    const mappingOf = (id: string) => ofType(t, "AWS::Lambda::EventSourceMapping").find(([, m]) => m.Properties.FunctionName.Ref === id)![1].Properties;
    expect(mappingOf(workerId)).toMatchObject({ BatchSize: spec.batchSize, FunctionResponseTypes: ["ReportBatchItemFailures"], ScalingConfig: { MaximumConcurrency: spec.maxConcurrency } });
    expect(mappingOf(deadId)).toMatchObject({ BatchSize: spec.deadLetter.batchSize, FunctionResponseTypes: ["ReportBatchItemFailures"], ScalingConfig: { MaximumConcurrency: spec.deadLetter.maxConcurrency } });
  });

  it("lets only the dispatcher and the worker send to the work queue (queue:work), and gives both its URL", () => {
    const t = templates.stream;
    // (Stream consumers also send to their own failure queues, with the on-failure destination's grant.)
    const isWorkQueueGrant = (s: Statement) => [...actionsOf(s)].sort().join() === [...WORK_QUEUE_ACTIONS].sort().join();
    const senders = manifestFunctions(t)
      .filter(([id]) => statementsOf(t, id).some(isWorkQueueGrant))
      .map(([, fn]) => fn.Properties.Handler)
      .sort();
    expect(senders).toEqual([workDispatcher.handler, spec.handler].sort());
    for (const handler of senders) expect(fnByHandler(t, handler)[1].Properties.Environment.Variables[spec.urlEnv]).toBeDefined();
    const [workerId] = fnByHandler(t, spec.handler);
    const send = statementsOf(t, workerId).find(isWorkQueueGrant)!;
    expect(JSON.stringify(send.Resource)).not.toContain("*");
  });

  it("alarms on any task in the dead-letter queue and on a task waiting over an hour", () => {
    const t = templates.stream;
    const alarms = ofType(t, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties).filter((a) => String(a.AlarmDescription).startsWith(`${spec.name}:`));
    expect(alarms.map((a) => [a.MetricName, a.Threshold]).sort()).toEqual(
      [
        ["ApproximateAgeOfOldestMessage", WORK_QUEUE_ALARMS.oldestTaskSeconds],
        ["ApproximateNumberOfMessagesVisible", WORK_QUEUE_ALARMS.deadLetters],
      ].sort(),
    );
  });
});

describe("Stream: redrive of the failure queues", () => {
  const withRedrive = streams.filter((c) => c.redrive);
  const redriveOf = (t: Template, handler: string) => manifestFunctions(t).find(([, fn]) => fn.Properties.Handler === handler)!;

  it("declares a redrive for the audit consumer in the manifest", () => {
    expect(withRedrive.map((c) => c.name)).toContain("audit");
  });

  it("runs each redrive on a schedule, for up to 5 minutes, without Lambda's own retries", () => {
    const t = templates.stream;
    for (const consumer of withRedrive) {
      const [id, fn] = redriveOf(t, consumer.redrive!.handler);
      expect(fn.Properties).toMatchObject({ Timeout: REDRIVE_FUNCTION.timeout });
      expect(JSON.stringify(fn.Properties.Environment.Variables.AGENTORG_FAILURE_QUEUE_URL)).toMatch(/Failures/);
      const rules = ofType(t, "AWS::Events::Rule").filter(([, r]) => functionRefs(t, r.Properties.Targets).includes(id));
      expect(rules).toHaveLength(1);
      expect(rules[0]![1].Properties).toMatchObject({ ScheduleExpression: `rate(${consumer.redrive!.everyMinutes} minutes)`, State: "ENABLED" });
      t.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { FunctionName: { Ref: id }, MaximumRetryAttempts: 0 });
    }
  });

  it("grants a redrive exactly its consumer's permissions, the stream, and receive/delete/visibility on its own queue", () => {
    const t = templates.stream;
    for (const consumer of withRedrive) {
      const [id] = redriveOf(t, consumer.redrive!.handler);
      const statements = statementsOf(t, id);
      const extra = consumer.name === "audit" ? ["ssm:GetParameter"] : [];
      expect(actionsOfFunction(t, id)).toEqual([...new Set([...expectedActions(consumer.permissions), ...STREAM_READ_ACTIONS, ...REDRIVE_QUEUE_ACTIONS, ...extra])].sort());
      const queue = statements.find((s) => actionsOf(s).includes("sqs:ReceiveMessage"))!;
      expect(queue.Resource).toEqual({ "Fn::GetAtt": [expect.stringMatching(/Failures/), "Arn"] });
      const stream = statements.find((s) => actionsOf(s).includes("dynamodb:GetRecords"))!;
      expect(JSON.stringify(stream.Resource)).toMatch(/StreamArn/);
      for (const s of statements) {
        if (resourceList(s).includes("*")) expect(actionsOf(s).every((a) => a.startsWith("xray:"))).toBe(true);
      }
    }
  });

  it("alarms on batches waiting, on the oldest one's age and on redrive errors, to the encrypted Alerts topic", () => {
    const t = templates.stream;
    const alarms = ofType(t, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    // Three per consumer with a redrive, one (any batch waiting) per consumer without, two per work queue.
    expect(alarms).toHaveLength(3 * withRedrive.length + (streams.length - withRedrive.length) + 2 * queues.length);
    const alerts = templates.alerts;
    const [topicId, topic] = ofType(alerts, "AWS::SNS::Topic")[0]!;
    expect(topic.Properties.KmsMasterKeyId).toBeDefined();
    alerts.hasResourceProperties("AWS::KMS::Key", { EnableKeyRotation: true });
    for (const alarm of alarms) expect(JSON.stringify(alarm.AlarmActions)).toMatch(new RegExp(`^\\[\\{"Fn::ImportValue":"test-agentorg-Alerts:ExportsOutputRef${topicId}[^"]*"\\}\\]$`));
    const byMetric = (name: string) => alarms.find((a) => a.MetricName === name)!;
    expect(byMetric("ApproximateNumberOfMessagesVisible")).toMatchObject({ Namespace: "AWS/SQS", Threshold: REDRIVE_ALARMS.visibleMessages.threshold, EvaluationPeriods: 3, ComparisonOperator: "GreaterThanOrEqualToThreshold" });
    expect(byMetric("ApproximateAgeOfOldestMessage")).toMatchObject({ Namespace: "AWS/SQS", Threshold: REDRIVE_ALARMS.oldestMessageSeconds });
    expect(byMetric("Errors")).toMatchObject({ Namespace: "AWS/Lambda", Threshold: 1 });
    expect(alerts.toJSON().Outputs.AlarmTopicArn).toBeDefined();
  });

  it("adds no redrive or schedule for a consumer that declares none, and alarms on any batch in its failure queue", () => {
    templates.streamSample.resourceCountIs("AWS::Events::Rule", 0);
    const alarms = ofType(templates.streamSample, "AWS::CloudWatch::Alarm").map(([, a]) => a.Properties);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ Namespace: "AWS/SQS", MetricName: "ApproximateNumberOfMessagesVisible", Threshold: 1, EvaluationPeriods: 1 });
  });
});

describe("Web", () => {
  it("serves the dashboard from a private, SSL-only bucket through CloudFront", () => {
    const t = templates.web;
    t.resourceCountIs("AWS::CloudFront::Distribution", 1);
    t.hasResourceProperties("AWS::S3::Bucket", {
      PublicAccessBlockConfiguration: Match.objectLike({ BlockPublicAcls: true, RestrictPublicBuckets: true }),
    });
    t.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      }),
    });
    expect(t.toJSON().Outputs.DashboardUrl).toBeDefined();
  });

  it("lets an ephemeral stage remove its site and log buckets, emptying them first", () => {
    const buckets = ofType(templates.web, "AWS::S3::Bucket");
    expect(buckets).toHaveLength(2);
    for (const [id, bucket] of buckets) expect(bucket.DeletionPolicy, id).toBe("Delete");
    templates.web.resourceCountIs("Custom::S3AutoDeleteObjects", 2);
  });

  it("fills in VITE_API_URL and VITE_WS_URL from the deployed APIs", () => {
    const [[, upload]] = ofType(templates.web, "Custom::S3Uploader") as [[string, Resource]];
    const searched = (upload.Properties.replaceValues as { search: string }[]).map((r) => r.search);
    expect(searched).toEqual(expect.arrayContaining(["{{ VITE_API_URL }}", "{{ VITE_WS_URL }}"]));
  });
});

describe("Stream: scheduled functions", () => {
  it("runs each manifest scheduled function on its Rule, with its timeout, without Lambda's retries, holding exactly its permissions", () => {
    const t = templates.stream;
    expect(scheduled.map((s) => s.name)).toEqual(expect.arrayContaining(["reservation-reconciler", "sla-sweep"]));
    for (const spec of scheduled) {
      const [id, fn] = manifestFunctions(t).find(([, f]) => f.Properties.Handler === spec.handler)!;
      expect(fn.Properties).toMatchObject({ Timeout: spec.timeoutSeconds });
      const rules = ofType(t, "AWS::Events::Rule").filter(([, r]) => functionRefs(t, r.Properties.Targets).includes(id));
      expect(rules).toHaveLength(1);
      expect(rules[0]![1].Properties).toMatchObject({ ScheduleExpression: `rate(${spec.everyMinutes} minutes)`, State: "ENABLED" });
      t.hasResourceProperties("AWS::Lambda::EventInvokeConfig", { FunctionName: { Ref: id }, MaximumRetryAttempts: 0 });
      expect(actionsOfFunction(t, id)).toEqual(expectedActions(spec.permissions));
    }
  });
});

describe("function timeouts", () => {
  it("deploys the timeouts the manifest states (the local runtime's invocation contexts count down from them)", () => {
    expect(FUNCTION_DEFAULTS.timeout).toBe(`${FUNCTION_TIMEOUT_SECONDS} seconds`);
    expect(STREAMING_TIMEOUT).toBe(`${STREAMING_TIMEOUT_SECONDS / 60} minutes`);
    for (const route of httpRoutes) {
      const key = `${route.method} ${route.path}`;
      const t = apiOf(key);
      expect(resourcesOf(t)[functionOfRoute(t, key)]!.Properties.Timeout, route.path).toBe(functionTimeoutSeconds(route));
    }
  });
});
