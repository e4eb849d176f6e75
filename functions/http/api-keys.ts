import { http } from "../lib/http";
import { tenants } from "../lib/services/tenants";
import { organizationRoutes as routes } from "../manifest/organizations";

const keys = () => tenants().apiKeys;

export const create = http(routes.createApiKey, ({ principal, params, body }) =>
  keys().create(principal, params.id, body),
);
export const list = http(routes.listApiKeys, async ({ principal, params }) => ({
  items: await keys().list(principal, params.id),
}));
export const revoke = http(routes.revokeApiKey, ({ principal, params }) =>
  keys().revoke(principal, params.id, params.keyId),
);
