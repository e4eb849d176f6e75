import { http, Reply } from "../lib/http";
import { config } from "../lib/config";
import { checkDependencies, overallStatus } from "../lib/health";
import { pingTable } from "../lib/services/table";
import { platformRoutes as routes } from "../manifest/platform";

/**
 * Each dependency with its status and latency: DynamoDB always (a read of a key that holds nothing),
 * plus what the runtime registered (locally: the DynamoDB Local process and the stream poller). 200
 * while nothing is down, 503 with the same JSON body (not a problem document: the details are the
 * answer) when something is, so a load balancer or a script can tell at a glance.
 */
export const handler = http(routes.health, async () => {
  const dependencies = await checkDependencies({ dynamodb: async (signal) => (await pingTable()(signal), { status: "up" }) });
  const status = overallStatus(dependencies);
  const body = { status, service: "agentorg", version: config().version, time: new Date().toISOString(), dependencies };
  return new Reply(status === "down" ? 503 : 200, body, { "cache-control": "no-store", ...(status === "down" ? { "retry-after": "2" } : {}) });
});
