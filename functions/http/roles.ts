import { Reply, http } from "../lib/http";
import { agents as agentService } from "../lib/services/agents";
import { agentRoutes as routes } from "../manifest/agents";

const agents = agentService;

export const list = http(routes.listRoles, async ({ principal }) => ({ items: await agents().listRoles(principal) }));
export const create = http(routes.createRole, ({ principal, body }) => agents().createRole(principal, body));
export const get = http(routes.getRole, ({ principal, params }) => agents().getRole(principal, params.id));
export const update = http(routes.updateRole, ({ principal, params, body }) => agents().updateRole(principal, params.id, body));
export const remove = http(routes.deleteRole, async ({ principal, params }) => {
  await agents().deleteRole(principal, params.id);
  return new Reply(204, undefined);
});
