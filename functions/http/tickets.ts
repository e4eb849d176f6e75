import { ticketActorOf } from "../../core/tickets/ticket-service";
import { http } from "../lib/http";
import { services } from "../lib/services";
import * as routes from "../routes";

const tickets = () => services().tickets;

export const list = http(routes.http.listTickets, ({ principal, query: { limit, cursor, ...filters } }) =>
  tickets().list(ticketActorOf(principal), filters, { limit: limit ?? 25, ...(cursor ? { cursor } : {}) }),
);
export const create = http(routes.http.createTicket, ({ principal, body }) => tickets().create(ticketActorOf(principal), body));
export const get = http(routes.http.getTicket, ({ principal, params }) => tickets().get(ticketActorOf(principal), params.id));
export const update = http(routes.http.updateTicket, ({ principal, params, body }) => tickets().update(ticketActorOf(principal), params.id, body));
export const transition = http(routes.http.transitionTicket, ({ principal, params, body }) =>
  tickets().transition(ticketActorOf(principal), params.id, body),
);
export const comment = http(routes.http.commentTicket, ({ principal, params, body }) => tickets().comment(ticketActorOf(principal), params.id, body));
export const link = http(routes.http.linkTicket, ({ principal, params, body }) => tickets().link(ticketActorOf(principal), params.id, body.ticket));
export const getSettings = http(routes.http.getTicketSettings, ({ principal }) => tickets().getSettings(ticketActorOf(principal)));
export const putSettings = http(routes.http.putTicketSettings, ({ principal, body }) => tickets().putSettings(ticketActorOf(principal), body));
