import { type StackContext, WebSocketApi, type WebSocketApiProps, use } from "sst/constructs";
import type { Construct } from "constructs";
import type { CfnStage } from "aws-cdk-lib/aws-apigatewayv2";
import { runtimePermissions } from "../functions/manifest.types";
import { wsRoutes } from "../functions/routes";
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
import { Storage } from "./storage";

/**
 * SST's WebSocketApi grants `execute-api:ManageConnections` on every stage of the API to every route's
 * function, in its constructor. Here each function holds only the permissions its manifest route asks
 * for (`$connect`/`$disconnect` never post to a connection), so that blanket grant is dropped; grants
 * asked for after construction still go through.
 */
class ManifestWebSocketApi extends WebSocketApi {
  private readonly constructed: boolean;

  constructor(scope: Construct, id: string, props: WebSocketApiProps) {
    super(scope, id, props);
    this.constructed = true;
  }

  override attachPermissions(permissions: Parameters<WebSocketApi["attachPermissions"]>[0]): void {
    // Fields are unset while the parent constructor runs: that is the blanket grant.
    if (!this.constructed) return;
    super.attachPermissions(permissions);
  }
}

/**
 * Stage-wide ceilings of the WebSocket API: messages (frames) a second for every route, and a lower one
 * for `$connect`, whose attempts cannot be attributed to a tenant until they are authenticated. Like
 * the HTTP API's (stacks/api.ts), cost ceilings above any tenant's own limits, which the handlers
 * enforce per organization and key.
 */
export const WS_THROTTLE = { rate: 1_000, burst: 2_000 } as const;
export const WS_CONNECT_THROTTLE = { rate: 100, burst: 200 } as const;

/**
 * The WebSocket API: one route per manifest entry (`$connect`, `$disconnect`, `$default`, `ping`, ...;
 * API Gateway selects custom routes on `$request.body.action`). Its functions find the @connections
 * endpoint in their event, so they need no AGENTORG_WS_ENDPOINT; the HTTP functions get it from here.
 */
export function Realtime({ stack }: StackContext) {
  const { table } = use(Storage);
  const api = new ManifestWebSocketApi(stack, "Realtime", {
    accessLog: { retention: LOG_RETENTION_NAME },
    cdk: { webSocketStage: { throttle: { rateLimit: WS_THROTTLE.rate, burstLimit: WS_THROTTLE.burst } } },
  });
  const apiId = api.cdk.webSocketApi.apiId;
  const stage = api.cdk.webSocketStage.stageName;
  const targets: PermissionTargets = { table: tableTarget(table), connections: { apiId, stage } };
  const environment = baseEnvironment(table);

  // Routes are added after construction: their permissions name this API's id and stage.
  for (const route of wsRoutes) {
    // Scoped under the API (not the stack) so its suppressions reach the routes and functions.
    api.addRoutes(api, {
      [route.routeKey]: {
        // Rate-limited routes also update their callers' rate-limit buckets.
        function: manifestFunction(stack, `Ws${constructId(route.routeKey)}`, { handler: route.handler, permissions: runtimePermissions(route) }, { environment, targets }),
      },
    });
  }
  const cfnStage = api.cdk.webSocketStage.node.defaultChild as CfnStage;
  // Passed to CloudFormation as is: its property names must be CloudFormation's.
  cfnStage.routeSettings = { $connect: { ThrottlingRateLimit: WS_CONNECT_THROTTLE.rate, ThrottlingBurstLimit: WS_CONNECT_THROTTLE.burst } };
  dependOnRoutes(cfnStage, api);

  suppressUnder(api, [
    {
      id: "AwsSolutions-APIG4",
      reason:
        "Authorization is done by the handlers: $connect authenticates the organization API key (Authorization: Bearer) and refuses the socket otherwise; every other route only runs on a connection $connect accepted.",
    },
  ]);
  applyStackSuppressions(stack);

  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`: where @connections calls go. */
  const managementEndpoint = api.cdk.webSocketStage.callbackUrl;
  stack.addOutputs({ WebSocketUrl: api.url, WebSocketManagementEndpoint: managementEndpoint });
  // Monitoring groups them as the `realtime` domain (functions/manifest/realtime.ts).
  const functions: GroupedFunction[] = wsRoutes.map((route) => {
    const fn = api.getFunction(route.routeKey);
    if (!fn) throw new Error(`No function behind ${route.routeKey}.`);
    return { group: "realtime", name: route.routeKey, fn };
  });
  return { api, apiId, stage, url: api.url, managementEndpoint, connections: targets.connections!, functions };
}
