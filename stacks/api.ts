import { FunctionUrlAuthType, HttpMethod, InvokeMode } from "aws-cdk-lib/aws-lambda";
import { Api as HttpApi, type ApiRouteProps, Function as SstFunction, type StackContext, use } from "sst/constructs";
import type { HttpRouteSpec } from "../functions/manifest.types";
import { fallback, httpRoutes } from "../functions/routes";
import {
  applyStackSuppressions,
  baseEnvironment,
  constructId,
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
 * The HTTP API: one route per manifest entry, each its own function holding only its route's
 * permissions, plus `$default` for everything else (problem+json 404/405 instead of API Gateway's
 * `{"message":"Not Found"}`).
 *
 * A `streaming` route's handler answers through Lambda response streaming, which API Gateway cannot
 * relay: its function gets a function URL (InvokeMode RESPONSE_STREAM, authenticated by the handler
 * like every route), output as `Streaming...Url` for clients that want the stream. Its HTTP API route
 * proxies to that URL, so the one API base URL still answers it, buffered (within 30 s).
 */
export function Api({ stack }: StackContext) {
  const { table } = use(Storage);
  const realtime = use(Realtime);
  const targets: PermissionTargets = { table: tableTarget(table), connections: realtime.connections };
  // The @connections endpoint, for HTTP functions that push to WebSocket clients; only those whose
  // route asks for connections:manage may actually call it.
  const environment = { ...baseEnvironment(table), AGENTORG_WS_ENDPOINT: realtime.managementEndpoint };

  const routes: Record<string, ApiRouteProps<never>> = {};
  const streamingUrls: Record<string, string> = {};
  for (const route of httpRoutes) {
    const key = `${route.method} ${route.path}`;
    if (routes[key]) throw new Error(`The manifest declares ${key} twice.`);
    const id = `Http${constructId(key)}`;
    const props = manifestFunction(stack, id, route, { environment, targets });
    if (route.streaming) {
      // The function URL runs the route's streamified export (`awslambda.streamifyResponse`).
      const handler = route.streamHandler ?? route.handler;
      const url = streamingFunctionUrl(new SstFunction(stack, id, { ...props, handler, timeout: STREAMING_TIMEOUT }), route);
      streamingUrls[key] = url;
      // The function URL serves every path; the route's own path keeps the handler's view of the request.
      routes[key] = { type: "url", url: `${url}${route.path.replace(/^\//, "")}` };
    } else {
      routes[key] = { function: props };
    }
  }
  routes.$default = { function: manifestFunction(stack, "HttpDefault", fallback, { environment, targets }) };

  const api = new HttpApi(stack, "Api", {
    routes,
    cors: { ...CORS, allowMethods: ["ANY"], maxAge: "1 day" },
    accessLog: { retention: LOG_RETENTION_NAME },
    defaults: {
      // A ceiling against runaway cost from a misbehaving client; tenant quotas are enforced in core.
      throttle: { rate: 100, burst: 200 },
    },
  });

  suppressUnder(api, [
    {
      id: "AwsSolutions-APIG4",
      reason:
        "Authorization is done by the handlers (functions/lib/http.ts): each manifest route declares its auth level (public, operator, key) and the wrapper checks the bearer key against its stored hash before any core call; health and the OpenAPI document are public by design.",
    },
  ]);
  applyStackSuppressions(stack);

  stack.addOutputs({
    ApiUrl: api.url,
    ...Object.fromEntries(Object.entries(streamingUrls).map(([key, url]) => [`Streaming${constructId(key)}Url`, url])),
  });
  return { api, url: api.url, streamingUrls };
}

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
