import type { CfnStage } from "aws-cdk-lib/aws-apigatewayv2";
import { FunctionUrlAuthType, HttpMethod, InvokeMode } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { Api as HttpApi, type ApiRouteProps, Function as SstFunction, type Stack, type StackContext, use } from "sst/constructs";
import { type HttpRouteSpec, runtimePermissions } from "../functions/manifest.types";
import { agentRoutes } from "../functions/manifest/agents";
import { workRoutes } from "../functions/manifest/work";
import { auditRoutes } from "../functions/manifest/audit";
import { organizationRoutes } from "../functions/manifest/organizations";
import { fallback, platformRoutes } from "../functions/manifest/platform";
import { rateLimitRoutes } from "../functions/manifest/rate-limits";
import { routingRoutes } from "../functions/manifest/routing";
import { ticketRoutes } from "../functions/manifest/tickets";
import { httpRoutes } from "../functions/routes";
import {
  applyStackSuppressions,
  baseEnvironment,
  constructId,
  dependOnRoutes,
  type GroupedFunction,
  LOG_RETENTION_NAME,
  manifestFunction,
  tableTarget,
} from "./defaults";
import { suppressUnder } from "./nag";
import type { PermissionTargets } from "./permissions";
import { Realtime } from "./realtime";
import { Storage } from "./storage";
import { CORS } from "../functions/lib/cors";

/** Exposed response headers (shared with the local gateway). */
export const EXPOSED_HEADERS = [...CORS.exposeHeaders];

/** A streamed answer (a long model completion) is not bound by API Gateway's 30 s. */
export const STREAMING_TIMEOUT = "5 minutes";

/**
 * The stage-wide ceiling (requests a second, and burst) of the HTTP API. Not a tenant limit (those are
 * per organization and per key, in the handlers: docs/rate-limiting.md) but a cost ceiling for the
 * whole platform, above the largest tier's limits (enterprise: 400 a second, bursts of 2,000) so that
 * one tenant within its limits never meets it. It is what absorbs floods no tenant can be blamed for
 * (no key, a bad key); past it API Gateway answers 429 itself, to everyone.
 */
export const API_THROTTLE = { rate: 1_000, burst: 2_000 } as const;

/**
 * Routes that need no key (health, the OpenAPI document, the audit public key) and unknown paths
 * (`$default`): nobody to attribute them to, so they get a small ceiling of their own, and a flood of
 * them cannot use up the stage's.
 */
export const PUBLIC_ROUTE_THROTTLE = { rate: 50, burst: 100 } as const;

/**
 * Reserved concurrency for the streaming functions (their function URLs bypass API Gateway's
 * throttling), from `AGENTORG_STREAMING_CONCURRENCY` at deploy: a hard cost ceiling per function.
 * Unset by default: the ceiling is shared by every tenant (a flood from one would take the others'
 * chat down with it, the noisy neighbour again), and a new account's whole concurrency quota can be
 * as small as 10, which a reservation can exceed (the deploy then fails). The handlers authenticate
 * and rate-limit each call before any work, so a flood costs a short invocation each.
 */
export function streamingConcurrency(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const value = env.AGENTORG_STREAMING_CONCURRENCY;
  if (value === undefined || value === "") return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`AGENTORG_STREAMING_CONCURRENCY must be a whole number of at least 1 (reserved concurrency of each streaming function), not '${value}'.`);
  }
  return n;
}

/**
 * The HTTP routes by manifest domain (functions/manifest/<domain>.ts). Every domain but `platform`
 * gets a stack of its own (ApiOrganizations, ...) that adds its routes to the one HTTP API, so no
 * stack nears CloudFormation's 500 resources (one route is 7: function, role, policy, log group,
 * integration, route, invoke permission). A test checks that these lists are exactly the manifest's.
 */
export const HTTP_DOMAINS = {
  platform: Object.values(platformRoutes),
  organizations: Object.values(organizationRoutes),
  "rate-limits": Object.values(rateLimitRoutes),
  routing: Object.values(routingRoutes),
  tickets: Object.values(ticketRoutes),
  // The work board and work settings (functions/manifest/work.ts) belong with the agents.
  agents: [...Object.values(agentRoutes), ...Object.values(workRoutes)],
  audit: Object.values(auditRoutes),
} as const satisfies Record<string, readonly HttpRouteSpec[]>;

export type HttpDomain = keyof typeof HTTP_DOMAINS;

/**
 * Which stack holds a route: the Api stack (the HTTP API itself) holds the platform's routes and every
 * public route, because the stage's per-route throttles (PUBLIC_ROUTE_THROTTLE) name those routes and
 * the stage must be ordered after them (a stage cannot depend on a stack that depends on it); every
 * other route is in its domain's stack.
 */
export function inCoreStack(domain: HttpDomain, route: HttpRouteSpec): boolean {
  return domain === "platform" || route.auth === "public";
}

/** What the functions of every Api stack share: the environment and the permission targets. */
function httpContext(stack: Stack) {
  const { table } = use(Storage);
  const realtime = use(Realtime);
  const targets: PermissionTargets = { table: tableTarget(table), connections: realtime.connections };
  // The @connections endpoint, for HTTP functions that push to WebSocket clients; only those whose
  // route asks for connections:manage may actually call it.
  const environment = { ...baseEnvironment(table), AGENTORG_WS_ENDPOINT: realtime.managementEndpoint };
  return { stack, targets, environment };
}

/**
 * The route props of some manifest routes: each its own function holding only its route's
 * permissions. A streaming route's function is created here (with its function URL); the others are
 * created by SST when the routes are added, and picked up with `functionsOf`.
 */
function httpRouteProps(ctx: ReturnType<typeof httpContext>, list: readonly HttpRouteSpec[]) {
  const { stack, environment, targets } = ctx;
  const routes: Record<string, ApiRouteProps<never>> = {};
  const streamingUrls: Record<string, string> = {};
  const streamingFunctions: Record<string, SstFunction> = {};
  for (const route of list) {
    const key = `${route.method} ${route.path}`;
    if (routes[key]) throw new Error(`The manifest declares ${key} twice.`);
    const id = `Http${constructId(key)}`;
    // Authenticated routes also update their callers' rate-limit buckets.
    const props = manifestFunction(stack, id, { handler: route.handler, permissions: runtimePermissions(route) }, { environment, targets });
    if (route.streaming) {
      // The function URL runs the route's streamified export (`awslambda.streamifyResponse`).
      const handler = route.streamHandler ?? route.handler;
      const reserved = streamingConcurrency();
      const fn = new SstFunction(stack, id, { ...props, handler, timeout: STREAMING_TIMEOUT, ...(reserved ? { reservedConcurrentExecutions: reserved } : {}) });
      const url = streamingFunctionUrl(fn, route);
      streamingUrls[key] = url;
      streamingFunctions[key] = fn;
      // The function URL serves every path; the route's own path keeps the handler's view of the request.
      routes[key] = { type: "url", url: `${url}${route.path.replace(/^\//, "")}` };
    } else {
      routes[key] = { function: props };
    }
  }
  return { routes, streamingUrls, streamingFunctions };
}

/** The function behind each of `keys` (SST's for plain routes, ours for streaming ones), with its group. */
function functionsOf(
  api: HttpApi,
  keys: readonly { key: string; group: string }[],
  streamingFunctions: Record<string, SstFunction>,
): GroupedFunction[] {
  return keys.map(({ key, group }) => {
    const fn = streamingFunctions[key] ?? api.getFunction(key);
    if (!fn) throw new Error(`No function behind ${key}.`);
    return { group, name: key, fn };
  });
}

/** The manifest's routes for a stack, with their domains. */
function routesFor(pick: (domain: HttpDomain, route: HttpRouteSpec) => boolean) {
  return (Object.entries(HTTP_DOMAINS) as [HttpDomain, readonly HttpRouteSpec[]][]).flatMap(([domain, list]) =>
    list.filter((route) => pick(domain, route)).map((route) => ({ domain, route })),
  );
}

const APIG4_SUPPRESSION = {
  id: "AwsSolutions-APIG4",
  reason:
    "Authorization is done by the handlers (functions/lib/http.ts): each manifest route declares its auth level (public, operator, key) and the wrapper checks the bearer key against its stored hash before any core call; health and the OpenAPI document are public by design.",
};

/**
 * The HTTP API (stack "Api"): the API itself, its stage, the platform's routes, every public route, and
 * `$default` for everything else (problem+json 404/405 instead of API Gateway's `{"message":"Not Found"}`).
 * The other routes are added to it by one stack per domain (`API_DOMAIN_STACKS`).
 *
 * A `streaming` route's handler answers through Lambda response streaming, which API Gateway cannot
 * relay: its function gets a function URL (InvokeMode RESPONSE_STREAM, authenticated by the handler
 * like every route), output as `Streaming...Url` for clients that want the stream. Its HTTP API route
 * proxies to that URL, so the one API base URL still answers it, buffered (within 30 s).
 */
export function Api({ stack }: StackContext) {
  const ctx = httpContext(stack);
  const core = routesFor(inCoreStack);
  const { routes, streamingUrls, streamingFunctions } = httpRouteProps(ctx, core.map((r) => r.route));
  routes.$default = { function: manifestFunction(stack, "HttpDefault", fallback, ctx) };

  const api = new HttpApi(stack, "Api", {
    routes,
    cors: { ...CORS, allowMethods: ["ANY"], maxAge: "1 day" },
    accessLog: { retention: LOG_RETENTION_NAME },
    defaults: {
      // A ceiling against runaway cost; tenants' rate limits are enforced by the handlers.
      throttle: API_THROTTLE,
    },
  });
  // Per-route ceilings for the routes nobody can be held to account for (SST sets only the default).
  const stage = api.cdk.httpApi.defaultStage!.node.defaultChild as CfnStage;
  // CfnStage.routeSettings is passed to CloudFormation as is: its property names must be CloudFormation's.
  const publicThrottle = { ThrottlingRateLimit: PUBLIC_ROUTE_THROTTLE.rate, ThrottlingBurstLimit: PUBLIC_ROUTE_THROTTLE.burst };
  stage.routeSettings = Object.fromEntries(
    [...httpRoutes.filter((r) => r.auth === "public").map((r) => `${r.method} ${r.path}`), "$default"].map((key) => [key, publicThrottle]),
  );
  // API Gateway refuses route settings for a route that does not exist yet ("Unable to find Route by
  // key"), and nothing else orders the stage after the routes (all public ones are in this stack).
  dependOnRoutes(stage, api);

  suppressUnder(api, [APIG4_SUPPRESSION]);
  applyStackSuppressions(stack);

  const functions = functionsOf(
    api,
    [...core.map(({ domain, route }) => ({ key: `${route.method} ${route.path}`, group: domain })), { key: "$default", group: "platform" }],
    streamingFunctions,
  );
  stack.addOutputs({ ApiUrl: api.url, ...streamingOutputs(streamingUrls) });
  return { api, url: api.url, streamingUrls, functions };
}

function streamingOutputs(urls: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(urls).map(([key, url]) => [`Streaming${constructId(key)}Url`, url]));
}

/** `rate-limits` -> `RateLimits`: the stack name's suffix. */
const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

/**
 * The stack adding one domain's (non-public) routes to the HTTP API of the Api stack: SST's
 * `api.addRoutes(scope, ...)` creates the functions, integrations, routes and invoke permissions under
 * `scope`, here a construct of this stack; only the API's id crosses stacks. A factory per domain.
 */
export function createApiDomainStack(domain: Exclude<HttpDomain, "platform">) {
  function ApiDomain({ stack }: StackContext) {
    const core = use(Api);
    const ctx = httpContext(stack);
    const mine = routesFor((d, route) => d === domain && !inCoreStack(d, route));
    const { routes, streamingUrls, streamingFunctions } = httpRouteProps(ctx, mine.map((r) => r.route));
    const scope = new Construct(stack, "Routes");
    core.api.addRoutes(scope, routes);
    suppressUnder(scope, [APIG4_SUPPRESSION]);
    applyStackSuppressions(stack);
    const functions = functionsOf(core.api, mine.map(({ route }) => ({ key: `${route.method} ${route.path}`, group: domain })), streamingFunctions);
    if (Object.keys(streamingUrls).length) stack.addOutputs(streamingOutputs(streamingUrls));
    return { functions, streamingUrls };
  }
  // SST names a stack after its function.
  return Object.defineProperty(ApiDomain, "name", { value: `Api${pascal(domain)}` });
}

/** One stack per manifest domain but the platform's, in manifest order: add each after `Api`. */
export const API_DOMAIN_STACKS = (Object.keys(HTTP_DOMAINS) as HttpDomain[])
  .filter((domain): domain is Exclude<HttpDomain, "platform"> => domain !== "platform")
  .map((domain) => createApiDomainStack(domain));

/** A response-streaming function URL for a streaming route; returns its URL (`https://....on.aws/`). */
function streamingFunctionUrl(fn: SstFunction, route: HttpRouteSpec): string {
  const functionUrl = fn.addFunctionUrl({
    // Authentication is the handler's, as for every route (bearer key, checked against its hash).
    authType: FunctionUrlAuthType.NONE,
    invokeMode: InvokeMode.RESPONSE_STREAM,
    cors: {
      allowedOrigins: CORS.allowOrigins,
      allowedHeaders: CORS.allowHeaders,
      exposedHeaders: CORS.exposeHeaders,
      allowedMethods: [HttpMethod[route.method]],
    },
  });
  return functionUrl.url;
}
