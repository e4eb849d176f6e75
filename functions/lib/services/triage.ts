import { createTicketStore } from "../../../core/db/ticket.repository";
import type { TriageDeps } from "../../../core/tickets/triage";
import { agentRepositories, agents } from "./agents";
import { lazy } from "./lazy";
import { table } from "./table";
import { tickets } from "./tickets";

/** Triage on ticket creation (core/tickets/triage.ts): the ticket store and service, agents and their messages. */
export const triage = lazy(
  (): TriageDeps => ({
    store: createTicketStore(table().options),
    tickets: tickets(),
    agents: agentRepositories().agents,
    send: (acting, senderId, input) => agents().send(acting, senderId, input),
  }),
);
