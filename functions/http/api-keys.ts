import { http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

const keys = () => services().apiKeys;

export const create = http(routes.http.createApiKey, ({ principal, params, body }) =>
  keys().create(principal, params.id, body),
);
export const list = http(routes.http.listApiKeys, async ({ principal, params }) => ({
  items: await keys().list(principal, params.id),
}));
export const revoke = http(routes.http.revokeApiKey, ({ principal, params }) =>
  keys().revoke(principal, params.id, params.keyId),
);
