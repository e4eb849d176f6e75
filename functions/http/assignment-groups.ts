import { ticketActorOf } from "../../core/tickets/ticket-service";
import { Reply, http } from "../lib/http";
import { assignmentGroups as groupService } from "../lib/services/tickets";
import { ticketRoutes as routes } from "../manifest/tickets";

const groups = groupService;

export const list = http(routes.listAssignmentGroups, ({ principal, query: { limit, cursor } }) =>
  groups().list(ticketActorOf(principal), { limit: limit ?? 50, ...(cursor ? { cursor } : {}) }),
);
export const create = http(routes.createAssignmentGroup, ({ principal, body }) => groups().create(ticketActorOf(principal), body));
export const get = http(routes.getAssignmentGroup, ({ principal, params }) => groups().get(ticketActorOf(principal), params.id));
export const update = http(routes.updateAssignmentGroup, ({ principal, params, body }) => groups().update(ticketActorOf(principal), params.id, body));
export const remove = http(routes.deleteAssignmentGroup, async ({ principal, params }) => {
  await groups().remove(ticketActorOf(principal), params.id);
  return new Reply(204, undefined);
});
