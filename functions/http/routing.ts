import { actorOf } from "../../core/auth/principal";
import { allowsModel } from "../../core/models/catalog";
import { http } from "../lib/http";
import { catalog as modelCatalog, routingAdmin, routingFeedback } from "../lib/services/routing";
import { routingRoutes as routes } from "../manifest/routing";

/** When the catalog's entries say they were created (OpenAI's `created`, epoch seconds): a fixed date, so lists compare. */
const CREATED = Date.UTC(2024, 0, 1) / 1000;

export const models = http(routes.listModels, ({ principal }) => {
  const catalog = modelCatalog();
  const aliases = catalog.aliases();
  // A key restricted to some models sees those only (every name of them), as LiteLLM's virtual keys do.
  const allowed = principal.kind === "org" ? principal.models : undefined;
  const visible = (name: string) => !allowed || allowsModel(catalog, allowed, name);
  const data = [
    ...catalog.models.map((m) => ({
      id: m.id,
      object: "model" as const,
      created: CREATED,
      owned_by: m.tier === "slm" ? "agentorg-slm" : "agentorg-llm",
      tier: m.tier,
      inputUsdPerMTok: m.inputUsdPerMTok,
      outputUsdPerMTok: m.outputUsdPerMTok,
      contextWindow: m.contextWindow,
      offline: catalog.isOffline(m.tier),
      default: catalog.defaultOf(m.tier).id === m.id,
      aliases: aliases.filter((a) => a.model.id === m.id).map((a) => a.alias),
    })),
    { id: "auto", object: "model" as const, created: CREATED, owned_by: "agentorg", aliasOf: null },
    ...aliases.map((a) => ({ id: a.alias, object: "model" as const, created: CREATED, owned_by: "agentorg", aliasOf: a.model.id })),
  ];
  return { object: "list" as const, data: data.filter((m) => visible(m.id)) };
});

export const decisions = http(routes.routingDecisions, ({ principal, query }) =>
  routingAdmin().records(principal, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);

export const globalStats = http(routes.routingGlobalStats, ({ principal }) => routingAdmin().globalStats(principal));

export const getSettings = http(routes.getRoutingSettings, ({ principal }) => routingAdmin().getSettings(principal));

export const putSettings = http(routes.putRoutingSettings, ({ principal, body }) =>
  routingAdmin().putSettings(principal, body, actorOf(principal)),
);

export const feedback = http(routes.completionFeedback, ({ principal, params, body }) =>
  routingFeedback().submit(principal, params.id, body, actorOf(principal)),
);

export const listFeedback = http(routes.listFeedback, ({ principal, query }) =>
  routingFeedback().list(principal, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);
