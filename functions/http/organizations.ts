import { http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

const orgs = () => services().organizations;

export const create = http(routes.http.createOrganization, ({ principal, body }) => orgs().create(principal, body));
export const list = http(routes.http.listOrganizations, ({ principal, query }) =>
  orgs().list(principal, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);
export const get = http(routes.http.getOrganization, ({ principal, params }) => orgs().get(principal, params.id));
export const update = http(routes.http.updateOrganization, ({ principal, params, body }) =>
  orgs().update(principal, params.id, body),
);
export const close = http(routes.http.closeOrganization, ({ principal, params }) => orgs().close(principal, params.id));
export const usage = http(routes.http.organizationUsage, ({ principal, params }) => orgs().usage(principal, params.id));
