import { Reply, http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

const agents = () => services().agents;

export const list = http(routes.http.listRoles, async ({ principal }) => ({ items: await agents().listRoles(principal) }));
export const create = http(routes.http.createRole, ({ principal, body }) => agents().createRole(principal, body));
export const get = http(routes.http.getRole, ({ principal, params }) => agents().getRole(principal, params.id));
export const update = http(routes.http.updateRole, ({ principal, params, body }) => agents().updateRole(principal, params.id, body));
export const remove = http(routes.http.deleteRole, async ({ principal, params }) => {
  await agents().deleteRole(principal, params.id);
  return new Reply(204, undefined);
});
