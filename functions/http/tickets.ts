import { ticketActorOf } from "../../core/tickets/ticket-service";
import { http } from "../lib/http";
import { tickets as ticketService } from "../lib/services/tickets";
import { ticketRoutes as routes } from "../manifest/tickets";

const tickets = ticketService;

export const list = http(routes.listTickets, ({ principal, query: { limit, cursor, ...filters } }) =>
  tickets().list(ticketActorOf(principal), filters, { limit: limit ?? 25, ...(cursor ? { cursor } : {}) }),
);
export const create = http(routes.createTicket, ({ principal, org, body }) => tickets().create(ticketActorOf(principal), body, org));
export const get = http(routes.getTicket, ({ principal, params }) => tickets().get(ticketActorOf(principal), params.id));
export const update = http(routes.updateTicket, ({ principal, params, body }) => tickets().update(ticketActorOf(principal), params.id, body));
export const transition = http(routes.transitionTicket, ({ principal, params, body }) =>
  tickets().transition(ticketActorOf(principal), params.id, body),
);
export const comment = http(routes.commentTicket, ({ principal, params, body }) => tickets().comment(ticketActorOf(principal), params.id, body));
export const link = http(routes.linkTicket, ({ principal, params, body }) => tickets().link(ticketActorOf(principal), params.id, body.ticket));
export const getSettings = http(routes.getTicketSettings, ({ principal }) => tickets().getSettings(ticketActorOf(principal)));
export const putSettings = http(routes.putTicketSettings, ({ principal, body }) => tickets().putSettings(ticketActorOf(principal), body));
