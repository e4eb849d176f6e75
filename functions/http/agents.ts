import { Reply, http } from "../lib/http";
import { agents as agentService } from "../lib/services/agents";
import { agentRoutes as routes } from "../manifest/agents";

const agents = agentService;

export const list = http(routes.listAgents, async ({ principal }) => ({ items: await agents().listAgents(principal) }));
export const create = http(routes.createAgent, ({ principal, body }) => agents().createAgent(principal, body));
export const get = http(routes.getAgent, ({ principal, params }) => agents().getAgent(principal, params.id));
export const update = http(routes.updateAgent, ({ principal, params, body }) => agents().updateAgent(principal, params.id, body));
export const remove = http(routes.deleteAgent, async ({ principal, params, query }) => {
  await agents().deleteAgent(principal, params.id, query.reassignReportsTo);
  return new Reply(204, undefined);
});
export const hierarchy = http(routes.hierarchy, ({ principal }) => agents().hierarchy(principal));
export const send = http(routes.sendMessage, async ({ principal, params, body }) => ({ items: await agents().sendAs(principal, params.id, body) }));
export const conversation = http(routes.conversation, ({ principal, query }) =>
  agents().conversation(principal, query.agentId, { limit: query.limit ?? 20, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);
export const messages = http(routes.listMessages, ({ principal, params, query }) =>
  agents().listMessages(principal, params.id, { limit: query.limit ?? 25, ...(query.cursor ? { cursor: query.cursor } : {}) }),
);
export const updateMessage = http(routes.updateMessage, ({ principal, params, body }) =>
  agents().setMessageStatus(principal, params.id, params.messageId, body.status),
);
