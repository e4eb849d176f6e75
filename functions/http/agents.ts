import { Reply, http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

const agents = () => services().agents;

export const list = http(routes.http.listAgents, async ({ principal }) => ({ items: await agents().listAgents(principal) }));
export const create = http(routes.http.createAgent, ({ principal, body }) => agents().createAgent(principal, body));
export const get = http(routes.http.getAgent, ({ principal, params }) => agents().getAgent(principal, params.id));
export const update = http(routes.http.updateAgent, ({ principal, params, body }) => agents().updateAgent(principal, params.id, body));
export const remove = http(routes.http.deleteAgent, async ({ principal, params, query }) => {
  await agents().deleteAgent(principal, params.id, query.reassignReportsTo);
  return new Reply(204, undefined);
});
export const hierarchy = http(routes.http.hierarchy, ({ principal }) => agents().hierarchy(principal));
export const send = http(routes.http.sendMessage, async ({ principal, params, body }) => ({ items: await agents().sendAs(principal, params.id, body) }));
export const messages = http(routes.http.listMessages, ({ principal, params, query }) =>
  agents().listMessages(principal, params.id, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);
export const updateMessage = http(routes.http.updateMessage, ({ principal, params, body }) =>
  agents().setMessageStatus(principal, params.id, params.messageId, body.status),
);
