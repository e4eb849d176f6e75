import { invalidInput } from "../../core/errors";
import { http } from "../lib/http";
import { catalog } from "../lib/services/routing";
import { tenants } from "../lib/services/tenants";
import { organizationRoutes as routes } from "../manifest/organizations";

const keys = () => tenants().apiKeys;

export const create = http(routes.createApiKey, ({ principal, params, body }) => {
  // Only names chat completions would accept: a typo would lock the key out of every model.
  const unknown = (body.models ?? []).filter((name) => !catalog().resolve(name));
  if (unknown.length) {
    throw invalidInput(
      `Unknown model(s) ${unknown.map((n) => `'${n}'`).join(", ")}: use "auto", catalog ids or aliases (GET /api/v1/models).`,
      unknown.map((n) => ({ field: `models.${body.models!.indexOf(n)}`, message: "is not a model name chat completions accept" })),
      "unknown_model",
    );
  }
  return keys().create(principal, params.id, body);
});
export const list = http(routes.listApiKeys, async ({ principal, params }) => ({
  items: await keys().list(principal, params.id),
}));
export const revoke = http(routes.revokeApiKey, ({ principal, params }) =>
  keys().revoke(principal, params.id, params.keyId),
);
