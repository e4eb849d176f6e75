import { actorOf } from "../../core/auth/principal";
import { http } from "../lib/http";
import { catalog as modelCatalog, routingAdmin } from "../lib/services/routing";
import { routingRoutes as routes } from "../manifest/routing";

export const models = http(routes.listModels, () => {
  const catalog = modelCatalog();
  return {
    object: "list" as const,
    data: catalog.models.map((m) => ({
      id: m.id,
      object: "model" as const,
      created: 0,
      owned_by: m.tier === "slm" ? "agentorg-slm" : "agentorg-llm",
      tier: m.tier,
      inputUsdPerMTok: m.inputUsdPerMTok,
      outputUsdPerMTok: m.outputUsdPerMTok,
      contextWindow: m.contextWindow,
      offline: catalog.isOffline(m.tier),
      default: catalog.defaultOf(m.tier).id === m.id,
    })),
  };
});

export const decisions = http(routes.routingDecisions, ({ principal, query }) =>
  routingAdmin().records(principal, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);

export const globalStats = http(routes.routingGlobalStats, ({ principal }) => routingAdmin().globalStats(principal));

export const getSettings = http(routes.getRoutingSettings, ({ principal }) => routingAdmin().getSettings(principal));

export const putSettings = http(routes.putRoutingSettings, ({ principal, body }) =>
  routingAdmin().putSettings(principal, body, actorOf(principal)),
);
