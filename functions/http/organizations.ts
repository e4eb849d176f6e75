import { http } from "../lib/http";
import { tenants } from "../lib/services/tenants";
import { organizationRoutes as routes } from "../manifest/organizations";

const orgs = () => tenants().organizations;

export const create = http(routes.createOrganization, ({ principal, body }) => orgs().create(principal, body));
export const list = http(routes.listOrganizations, ({ principal, query }) =>
  orgs().list(principal, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);
export const get = http(routes.getOrganization, ({ principal, params }) => orgs().get(principal, params.id));
export const update = http(routes.updateOrganization, ({ principal, params, body }) =>
  orgs().update(principal, params.id, body),
);
export const close = http(routes.closeOrganization, ({ principal, params }) => orgs().close(principal, params.id));
export const usage = http(routes.organizationUsage, ({ principal, params, org }) => orgs().usage(principal, params.id, org));
