import { z } from "../../core/shared/zod";
import {
  CommentBody,
  CreateTicketBody,
  HistoryEntry,
  LinkBody,
  Ticket,
  TicketFilters,
  TicketRef,
  TicketSettings,
  TransitionBody,
  UpdateTicketBody,
} from "../../core/tickets/ticket.schema";
import { AssignmentGroup, CreateAssignmentGroupBody, UpdateAssignmentGroupBody } from "../../core/tickets/assignment-group.schema";
import { httpRoute, type ScheduledFunctionSpec, type StreamConsumerSpec } from "../manifest.types";
import { IdParams, Page, PageQuery } from "./common";

/** A ticket in a path: its id or its number. Anything else cannot exist (404). */
const TicketParams = z.object({ id: TicketRef });

// Ticket changes publish events to WebSocket subscribers; reads may announce a newly breached SLA.
const WRITE = ["table:read", "table:write", "connections:manage"] as const;

export const ticketRoutes = {
  listTickets: httpRoute({
    method: "GET",
    path: "/api/v1/tickets",
    handler: "functions/http/tickets.list",
    auth: "key",
    summary:
      "List tickets, newest first, filtered by type, state, priority, assignee, assignment group (its queue: open tickets), SLA breached or at risk; cursor pagination (a page can be short and still have a cursor)",
    tags: ["tickets"],
    query: PageQuery.extend(TicketFilters.shape),
    response: { status: 200, description: "A page of tickets", schema: Page(Ticket, "TicketPage") },
    permissions: [...WRITE],
  }),
  createTicket: httpRoute({
    method: "POST",
    path: "/api/v1/tickets",
    handler: "functions/http/tickets.create",
    auth: "key",
    summary:
      "Open an incident, service request, change or problem; priority from impact and urgency; counts against the monthly ticket quota (429 when used up); an assignee outside the assignment group is 400 assignee_not_in_group",
    tags: ["tickets"],
    body: CreateTicketBody,
    response: { status: 201, description: "The new ticket, with its number (INC0001001)", schema: Ticket },
    permissions: [...WRITE],
  }),
  getTicket: httpRoute({
    method: "GET",
    path: "/api/v1/tickets/{id}",
    handler: "functions/http/tickets.get",
    auth: "key",
    summary: "A ticket by id or number, with its SLA computed now and its history",
    tags: ["tickets"],
    params: TicketParams,
    response: { status: 200, description: "The ticket", schema: Ticket },
    permissions: [...WRITE],
  }),
  updateTicket: httpRoute({
    method: "PATCH",
    path: "/api/v1/tickets/{id}",
    handler: "functions/http/tickets.update",
    auth: "key",
    summary:
      "Change a ticket's fields (not its state); impact and urgency recompute the priority; 409 ticket_closed once it is closed, canceled or rejected; an assignee outside the ticket's assignment group is 400 assignee_not_in_group",
    tags: ["tickets"],
    params: TicketParams,
    body: UpdateTicketBody,
    response: { status: 200, description: "The updated ticket", schema: Ticket },
    errors: [
      { status: 409, description: "The ticket is closed (`ticket_closed`), its change type is locked (`change_type_locked`), or it kept changing (`concurrent_modification`)" },
    ],
    permissions: [...WRITE],
  }),
  transitionTicket: httpRoute({
    method: "POST",
    path: "/api/v1/tickets/{id}/transitions",
    handler: "functions/http/tickets.transition",
    auth: "key",
    summary: "Move a ticket along its ITIL workflow; a transition the workflow does not allow is 409 with the allowed ones",
    tags: ["tickets"],
    params: TicketParams,
    body: TransitionBody,
    response: { status: 200, description: "The ticket in its new state", schema: Ticket },
    errors: [
      { status: 409, description: "The workflow does not allow it (`invalid_transition`, with `allowed`), or the ticket kept changing (`concurrent_modification`)" },
    ],
    permissions: [...WRITE],
  }),
  commentTicket: httpRoute({
    method: "POST",
    path: "/api/v1/tickets/{id}/comments",
    handler: "functions/http/tickets.comment",
    auth: "key",
    summary: "Add a comment (visible to the caller) or a work note (internal); 409 ticket_closed on a closed, canceled or rejected ticket",
    tags: ["tickets"],
    params: TicketParams,
    body: CommentBody,
    response: { status: 201, description: "The history entry of the comment", schema: HistoryEntry },
    errors: [
      { status: 409, description: "The ticket kept changing (`concurrent_modification`)" },
    ],
    permissions: [...WRITE],
  }),
  linkTicket: httpRoute({
    method: "POST",
    path: "/api/v1/tickets/{id}/links",
    handler: "functions/http/tickets.link",
    auth: "key",
    summary: "Link two tickets both ways: incident-problem, incident or problem-change, request-request item; 409 ticket_closed when either one is closed, canceled or rejected",
    tags: ["tickets"],
    params: TicketParams,
    body: LinkBody,
    response: { status: 200, description: "The ticket with its new link", schema: Ticket },
    errors: [
      { status: 409, description: "`already_linked`, `too_many_links`, or the tickets kept changing (`concurrent_modification`)" },
    ],
    permissions: [...WRITE],
  }),
  listAssignmentGroups: httpRoute({
    method: "GET",
    path: "/api/v1/assignment-groups",
    handler: "functions/http/assignment-groups.list",
    auth: "key",
    summary: "The organization's assignment groups (teams of agents tickets are assigned to), oldest first; cursor pagination",
    tags: ["tickets"],
    query: PageQuery,
    response: { status: 200, description: "A page of assignment groups", schema: Page(AssignmentGroup, "AssignmentGroupPage") },
    permissions: ["table:read"],
  }),
  createAssignmentGroup: httpRoute({
    method: "POST",
    path: "/api/v1/assignment-groups",
    handler: "functions/http/assignment-groups.create",
    auth: "key",
    summary: "Create an assignment group: a name, a description, member agents and an optional manager agent",
    tags: ["tickets"],
    body: CreateAssignmentGroupBody,
    response: { status: 201, description: "The new group", schema: AssignmentGroup },
    permissions: ["table:write"],
  }),
  getAssignmentGroup: httpRoute({
    method: "GET",
    path: "/api/v1/assignment-groups/{id}",
    handler: "functions/http/assignment-groups.get",
    auth: "key",
    summary: "An assignment group, with its members' names and its count of open tickets (its queue: GET /tickets?assignmentGroup={id})",
    tags: ["tickets"],
    params: IdParams,
    response: { status: 200, description: "The group", schema: AssignmentGroup },
    permissions: ["table:read"],
  }),
  updateAssignmentGroup: httpRoute({
    method: "PATCH",
    path: "/api/v1/assignment-groups/{id}",
    handler: "functions/http/assignment-groups.update",
    auth: "key",
    summary: "Change an assignment group's name, description, members or manager; with `version`, only if it is still at that version",
    tags: ["tickets"],
    params: IdParams,
    body: UpdateAssignmentGroupBody,
    response: { status: 200, description: "The group", schema: AssignmentGroup },
    errors: [
      { status: 409, description: "The group is no longer at the version given, or kept changing (`concurrent_modification`)" },
    ],
    permissions: ["table:write"],
  }),
  deleteAssignmentGroup: httpRoute({
    method: "DELETE",
    path: "/api/v1/assignment-groups/{id}",
    handler: "functions/http/assignment-groups.remove",
    auth: "key",
    summary: "Delete an assignment group that has no open tickets",
    tags: ["tickets"],
    params: IdParams,
    response: { status: 204, description: "Deleted" },
    errors: [{ status: 409, description: "The group still has open tickets (`assignment_group_in_use`, with `openTickets`)" }],
    permissions: ["table:write"],
  }),
  getTicketSettings: httpRoute({
    method: "GET",
    path: "/api/v1/ticket-settings",
    handler: "functions/http/tickets.getSettings",
    auth: "key",
    summary: "The organization's ticket settings: who may authorize changes",
    tags: ["tickets"],
    response: { status: 200, description: "Settings", schema: TicketSettings },
    permissions: ["table:read"],
  }),
  putTicketSettings: httpRoute({
    method: "PUT",
    path: "/api/v1/ticket-settings",
    handler: "functions/http/tickets.putSettings",
    auth: "key",
    summary: "Set who may authorize changes: key holders, listed keys, agent roles, agent ids, agents up to a level",
    tags: ["tickets"],
    body: TicketSettings,
    response: { status: 200, description: "Settings", schema: TicketSettings },
    permissions: ["table:write"],
  }),
} as const;

/**
 * The SLA sweep: every five minutes it marks at-risk and breached SLA clocks nobody has read,
 * escalates breaches to an inbox, and closes incidents resolved longer than the organization's
 * auto-close days (core/tickets/sla-sweep.ts). It queries the organizations and open-tickets indexes,
 * updates tickets and delivers messages (`table:write`, which includes the reads) and pushes ticket
 * events to WebSocket subscribers (`connections:manage`).
 */
export const slaSweep = {
  name: "sla-sweep",
  handler: "functions/scheduled/sla-sweep.handler",
  everyMinutes: 5,
  timeoutSeconds: 120,
  permissions: ["table:write", "connections:manage"],
} as const satisfies ScheduledFunctionSpec;

/**
 * Triage on ticket creation (functions/stream/ticket-triage.ts, core/tickets/triage.ts): each ticket
 * insert is triaged by the organization's ITSM agent for its type, if it has one. Inserts only (the
 * triage's own write is a MODIFY, so it does not trigger itself); small batches, since each record
 * costs a few reads and writes.
 */
export const ticketTriageConsumer: StreamConsumerSpec = {
  name: "ticket-triage",
  handler: "functions/stream/ticket-triage.handler",
  filterPatterns: [{ eventName: ["INSERT"], dynamodb: { NewImage: { entity: { S: ["ticket"] } } } }],
  batchSize: 10,
  permissions: ["table:read", "table:write", "connections:manage"],
};
