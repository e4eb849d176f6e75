import { actorOf } from "../../core/auth/principal";
import { http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

export const models = http(routes.http.listModels, () => {
  const { catalog } = services();
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

export const decisions = http(routes.http.routingDecisions, ({ principal, query }) =>
  services().chat.records(principal, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);

export const globalStats = http(routes.http.routingGlobalStats, ({ principal }) => services().chat.globalStats(principal));

export const getSettings = http(routes.http.getRoutingSettings, ({ principal }) => services().chat.getSettings(principal));

export const putSettings = http(routes.http.putRoutingSettings, ({ principal, body }) =>
  services().chat.putSettings(principal, body, actorOf(principal)),
);
