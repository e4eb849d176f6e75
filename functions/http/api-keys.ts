import { invalidInput } from "../../core/errors";
import { http } from "../lib/http";
import { catalog } from "../lib/services/routing";
import { tenants } from "../lib/services/tenants";
import { organizationRoutes as routes } from "../manifest/organizations";

const keys = () => tenants().apiKeys;

/** Only names chat completions would accept: a typo would lock the key out of every model. */
function assertKnownModels(models: readonly string[] | null | undefined): void {
  const unknown = (models ?? []).filter((name) => !catalog().resolve(name));
  if (!unknown.length) return;
  throw invalidInput(
    `Unknown model(s) ${unknown.map((n) => `'${n}'`).join(", ")}: use "auto", catalog ids or aliases (GET /api/v1/models).`,
    unknown.map((n) => ({ field: `models.${models!.indexOf(n)}`, message: "is not a model name chat completions accept" })),
    "unknown_model",
  );
}

export const create = http(routes.createApiKey, ({ principal, params, body }) => {
  assertKnownModels(body.models);
  return keys().create(principal, params.id, body);
});
export const list = http(routes.listApiKeys, async ({ principal, params }) => ({
  items: await keys().list(principal, params.id),
}));
export const update = http(routes.updateApiKey, ({ principal, params, body }) => {
  assertKnownModels(body.models);
  return keys().update(principal, params.id, params.keyId, body);
});
export const revoke = http(routes.revokeApiKey, ({ principal, params }) =>
  keys().revoke(principal, params.id, params.keyId),
);
