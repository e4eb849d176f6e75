import { http } from "../lib/http";
import { config } from "../lib/config";
import * as routes from "../routes";

export const handler = http(routes.http.health, () => ({
  status: "ok" as const,
  service: "agentorg",
  version: config().version,
  time: new Date().toISOString(),
}));
