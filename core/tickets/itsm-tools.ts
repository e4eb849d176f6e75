import type { AgentTool, ToolContext } from "../agents/tools";
import { type FieldError, invalidInput } from "../errors";
import { z } from "../shared/zod";
import { agentActorOf, type TicketService } from "./ticket-service";
import {
  CHANGE_RISKS,
  CHANGE_TYPES,
  CreateTicketBody,
  TICKET_STATES,
  TICKET_TYPES,
  type Ticket,
  type TicketFilterInput,
  type UpdateTicketInput,
} from "./ticket.schema";

/**
 * The ITSM agents' tools (OpenAI function calling): create_ticket, update_ticket, transition_ticket,
 * link_tickets, search_tickets, add_comment. Each has a JSON Schema generated from the zod schema that
 * validates its arguments (one source, so the model is told exactly what is checked), and executes
 * through the ticket service as `agent:<id>` of the calling agent's organization: the same rules,
 * quota, history and events as the HTTP API. Failures are DomainErrors (code + message) the model can
 * read and correct; results are compact ticket summaries, not whole tickets, to spare the context.
 */
export interface ItsmToolsDeps {
  tickets: TicketService;
}

// JSON Schema cannot say "case-insensitive", so the number prefixes are spelled in both cases.
const Ref = z
  .string()
  .regex(/^(?:[0-9a-hjkmnp-tv-zA-HJKMNP-TV-Z]{26}|(?:INC|REQ|CHG|PRB|inc|req|chg|prb)[0-9]{7,})$/)
  .describe("The ticket's number (e.g. INC0001001) or id");
const AgentId = z.string().toLowerCase().regex(/^[0-9a-hjkmnp-tv-z]{26}$/).describe("An agent id");
const GroupId = z.string().toLowerCase().regex(/^[0-9a-hjkmnp-tv-z]{26}$/).describe("An assignment group id (a team of agents)");
const Level = (what: string) => z.number().int().min(1).max(3).describe(what);
const IMPACT = "1 = widespread (many users or a whole business service), 2 = a department or group, 3 = one user";
const URGENCY = "1 = work has stopped / no workaround, 2 = work impaired, 3 = can wait";
const Time = z.iso.datetime({ offset: true }).describe("ISO 8601 date-time");

const CreateArgs = z.strictObject({
  type: z.enum(TICKET_TYPES).describe("incident: something broke; service_request: someone needs something; change: a planned modification; problem: the cause behind incidents"),
  title: z.string().trim().min(1).max(160).describe("Short description, e.g. 'Payroll service down for all users'"),
  description: z.string().max(20_000).optional().describe("What happened, who is affected, what was tried"),
  caller: z.string().max(120).optional().describe("Who reported it (default: you)"),
  category: z.string().max(80).optional().describe("e.g. software, hardware, network, access"),
  affected_service: z.string().max(120).optional().describe("The affected business service, e.g. 'Payroll'"),
  impact: Level(IMPACT).optional().describe(`${IMPACT} (default 3)`),
  urgency: Level(URGENCY).optional().describe(`${URGENCY} (default 3)`),
  assigned_to: AgentId.optional().describe("The agent to assign it to (a member of assignment_group when both are given)"),
  assignment_group: GroupId.optional().describe("The assignment group (team) to assign it to"),
  change_type: z.enum(CHANGE_TYPES).optional().describe("Changes only: normal (assessed and authorized), standard (pre-authorized), emergency (authorized, not assessed)"),
  risk: z.enum(CHANGE_RISKS).optional().describe("Changes only"),
  planned_start: Time.optional().describe("Changes only"),
  planned_end: Time.optional().describe("Changes only"),
  root_cause: z.string().max(4000).optional().describe("Problems only"),
  workaround: z.string().max(4000).optional().describe("Problems only"),
});

const UpdateArgs = z.strictObject({
  ticket: Ref,
  title: z.string().trim().min(1).max(160).optional(),
  description: z.string().max(20_000).optional(),
  caller: z.string().max(120).optional(),
  category: z.string().max(80).nullable().optional(),
  affected_service: z.string().max(120).nullable().optional(),
  impact: Level(IMPACT).optional().describe(`${IMPACT}; the priority is recomputed`),
  urgency: Level(URGENCY).optional().describe(`${URGENCY}; the priority is recomputed`),
  assigned_to: AgentId.nullable().optional().describe("An agent id, or null to unassign; must be a member of the ticket's assignment group"),
  assignment_group: GroupId.nullable().optional().describe("An assignment group id, or null for none"),
  resolution_code: z.string().max(40).nullable().optional().describe("Incident: solved_permanently, solved_workaround, solved_remotely, resolved_by_problem, resolved_by_change, not_reproducible, too_costly, duplicate, canceled_by_caller; problem: fix_applied, risk_accepted, duplicate, canceled; change: successful, successful_with_issues, unsuccessful"),
  resolution_notes: z.string().max(4000).nullable().optional(),
  change_type: z.enum(CHANGE_TYPES).optional().describe("Changes only, while new"),
  risk: z.enum(CHANGE_RISKS).optional().describe("Changes only"),
  planned_start: Time.nullable().optional().describe("Changes only"),
  planned_end: Time.nullable().optional().describe("Changes only"),
  known_error: z.boolean().optional().describe("Problems only: mark as known error (needs a workaround)"),
  workaround: z.string().max(4000).nullable().optional().describe("Problems only"),
  root_cause: z.string().max(4000).nullable().optional().describe("Problems only"),
});

const TransitionArgs = z.strictObject({
  ticket: Ref,
  to: z.enum(TICKET_STATES).describe(
    "The new state. incident: new -> in_progress -> on_hold -> in_progress -> resolved -> closed (canceled from new, in_progress, on_hold; resolved -> in_progress reopens). " +
      "change: normal new -> assess -> authorize -> scheduled -> implement -> review -> closed; standard new -> scheduled; emergency new -> authorize; authorize -> new rejects. " +
      "problem: new -> assess -> root_cause_analysis -> fix_in_progress -> resolved -> closed. service_request: new -> approved -> fulfilling -> closed, or rejected, canceled.",
  ),
  reason: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("on_hold: awaiting_caller | awaiting_change | awaiting_problem | awaiting_vendor. resolved: the resolution code. Closing a change: successful | successful_with_issues | unsuccessful. Otherwise why."),
  note: z.string().trim().min(1).max(4000).optional().describe("Work note; when resolving an incident or closing a change: the resolution notes (required)"),
});

const LinkArgs = z.strictObject({
  ticket: Ref,
  related: Ref.describe("The other ticket. Supported: incident-problem, incident-change, problem-change, service_request-service_request (the second becomes a request item of the first)"),
});

const SearchArgs = z.strictObject({
  query: z.string().trim().min(1).max(100).optional().describe("Words that must all appear in the number, title, description, category or service"),
  type: z.enum(TICKET_TYPES).optional(),
  state: z.enum(TICKET_STATES).optional(),
  priority: z.number().int().min(1).max(5).optional().describe("1 Critical .. 5 Planning"),
  assigned_to: z.union([AgentId, z.literal("none")]).optional().describe("An agent id, or 'none' for unassigned"),
  assignment_group: GroupId.optional().describe("The group's queue: its open tickets (unless active is false)"),
  category: z.string().max(80).optional(),
  affected_service: z.string().max(120).optional(),
  active: z.boolean().optional().describe("true: open tickets only; false: closed, canceled or rejected only"),
  breached: z.boolean().optional().describe("true: tickets whose response or resolution SLA is breached"),
  at_risk: z.boolean().optional().describe("true: running SLAs past 75% of their target"),
  known_error: z.boolean().optional().describe("true: problems marked known error (with a workaround)"),
  limit: z.number().int().min(1).max(50).optional().describe("Most results (default 10)"),
  cursor: z.string().max(2048).optional().describe("next_cursor of a previous search, for more results"),
});

const CommentArgs = z.strictObject({
  ticket: Ref,
  text: z.string().trim().min(1).max(20_000),
  visibility: z.enum(["comment", "work_note"]).optional().describe("comment (default): visible to the caller; work_note: internal"),
});

/** A compact summary of a ticket for the model. */
export function ticketSummary(t: Ticket) {
  return {
    id: t.id,
    number: t.number,
    type: t.type,
    title: t.title,
    state: t.state,
    priority: t.priority,
    priority_label: t.priorityLabel,
    impact: t.impact,
    urgency: t.urgency,
    assigned_to: t.assignedTo,
    assignment_group: t.assignmentGroup,
    category: t.category,
    affected_service: t.affectedService,
    ...(t.holdReason ? { hold_reason: t.holdReason } : {}),
    ...(t.resolutionCode ? { resolution_code: t.resolutionCode } : {}),
    ...(t.changeType ? { change_type: t.changeType, risk: t.risk, approval: t.approval } : {}),
    ...(t.type === "problem" ? { known_error: t.knownError, workaround: t.workaround } : {}),
    links: t.links.map((l) => ({ kind: l.kind, number: l.number })),
    sla: {
      breached: t.sla.breached,
      at_risk: t.sla.atRisk,
      time_to_breach_minutes: t.sla.timeToBreachSeconds === null ? null : Math.round(t.sla.timeToBreachSeconds / 60),
    },
  };
}

/** JSON Schema of a zod schema as OpenAI function parameters (draft-07 subset, no `$schema`). */
function parametersOf(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: "input", target: "draft-7" }) as Record<string, unknown>;
  return simplify(json) as Record<string, unknown>;
}

/** zod spells date-times as a format and a very long regex; models only need the format. */
function simplify(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(simplify);
  if (!node || typeof node !== "object") return node;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node)) {
    if (name === "pattern" && (node as Record<string, unknown>).format === "date-time") continue;
    out[name] = simplify(value);
  }
  return out;
}

function parseArgs<S extends z.ZodType>(schema: S, args: unknown, tool: string): z.output<S> {
  let value = args;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value || "{}");
    } catch {
      throw invalidInput(`The arguments of ${tool} are not valid JSON.`, [], "invalid_tool_arguments");
    }
  }
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const errors: FieldError[] = result.error.issues.map((issue) => ({
    field: issue.path.length ? issue.path.join(".") : issue.code === "unrecognized_keys" ? (issue.keys ?? []).join(",") : "(arguments)",
    message: issue.message,
  }));
  throw invalidInput(`Invalid arguments for ${tool}: ${errors.map((e) => `${e.field}: ${e.message}`).join("; ")}.`, errors, "invalid_tool_arguments");
}

const defined = <T extends Record<string, unknown>>(value: T): Partial<T> =>
  Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;

const flag = (value: boolean | undefined) => (value === undefined ? undefined : value ? ("true" as const) : ("false" as const));

/** The six ITSM tools, bound to the ticket service. */
export function createItsmTools({ tickets }: ItsmToolsDeps): AgentTool[] {
  const tool = <S extends z.ZodType>(
    name: string,
    description: string,
    schema: S,
    run: (args: z.output<S>, context: ToolContext) => Promise<unknown>,
  ): AgentTool => ({
    name,
    description,
    parameters: parametersOf(schema),
    execute: async (args, context) => run(parseArgs(schema, args, name), context),
  });

  return [
    tool(
      "create_ticket",
      "Open an ITSM ticket (incident, service_request, change or problem). The priority follows from impact and urgency: impact 1 + urgency 1 = 1 Critical, 1+2 or 2+1 = 2 High, 1+3, 2+2, 3+1 = 3 Moderate, 2+3 or 3+2 = 4 Low, 3+3 = 5 Planning. Returns the ticket with its number.",
      CreateArgs,
      async (a, context) => {
        const body = CreateTicketBody.parse(
          defined({
            type: a.type,
            title: a.title,
            description: a.description,
            caller: a.caller,
            category: a.category,
            affectedService: a.affected_service,
            impact: a.impact,
            urgency: a.urgency,
            assignedTo: a.assigned_to,
            assignmentGroup: a.assignment_group,
            changeType: a.change_type,
            risk: a.risk,
            plannedStart: a.planned_start,
            plannedEnd: a.planned_end,
            rootCause: a.root_cause,
            workaround: a.workaround,
          }),
        );
        return ticketSummary(await tickets.create(agentActorOf(context), body));
      },
    ),
    tool(
      "update_ticket",
      "Change fields of a ticket (not its state: use transition_ticket). Changing impact or urgency recomputes the priority and the SLA targets.",
      UpdateArgs,
      async (a, context) => {
        const input = defined({
          title: a.title,
          description: a.description,
          caller: a.caller,
          category: a.category,
          affectedService: a.affected_service,
          impact: a.impact,
          urgency: a.urgency,
          assignedTo: a.assigned_to,
          assignmentGroup: a.assignment_group,
          resolutionCode: a.resolution_code,
          resolutionNotes: a.resolution_notes,
          changeType: a.change_type,
          risk: a.risk,
          plannedStart: a.planned_start,
          plannedEnd: a.planned_end,
          knownError: a.known_error,
          workaround: a.workaround,
          rootCause: a.root_cause,
        }) as UpdateTicketInput;
        if (!Object.keys(input).length) throw invalidInput("update_ticket needs at least one field to change besides ticket.", [], "invalid_tool_arguments");
        return ticketSummary(await tickets.update(agentActorOf(context), a.ticket, input));
      },
    ),
    tool(
      "transition_ticket",
      "Move a ticket to another state of its ITIL workflow. A refused move answers with the allowed states. Moving a change from authorize to scheduled records your approval (you need change authority); authorize to new rejects it.",
      TransitionArgs,
      async (a, context) => ticketSummary(await tickets.transition(agentActorOf(context), a.ticket, defined({ to: a.to, reason: a.reason, note: a.note }) as { to: typeof a.to })),
    ),
    tool(
      "link_tickets",
      "Link two tickets both ways: an incident to the problem behind it, an incident or problem to the change that fixes it, a service request to a request item.",
      LinkArgs,
      async (a, context) => ticketSummary(await tickets.link(agentActorOf(context), a.ticket, a.related)),
    ),
    tool(
      "search_tickets",
      "Find tickets of your organization, newest first, by words and filters (type, state, priority, assignee, SLA breached or at risk, known errors).",
      SearchArgs,
      async (a, context) => {
        const filters: TicketFilterInput = defined({
          q: a.query,
          type: a.type,
          state: a.state,
          priority: a.priority,
          assignee: a.assigned_to,
          assignmentGroup: a.assignment_group,
          category: a.category,
          service: a.affected_service,
          active: flag(a.active),
          breached: flag(a.breached),
          at_risk: flag(a.at_risk),
          known_error: flag(a.known_error),
        });
        const page = await tickets.list(agentActorOf(context), filters, { limit: a.limit ?? 10, ...(a.cursor ? { cursor: a.cursor } : {}) });
        return { count: page.items.length, tickets: page.items.map(ticketSummary), ...(page.cursor ? { next_cursor: page.cursor } : {}) };
      },
    ),
    tool(
      "add_comment",
      "Add a comment (visible to the caller) or a work note (internal) to a ticket.",
      CommentArgs,
      async (a, context) => {
        const entry = await tickets.comment(agentActorOf(context), a.ticket, { text: a.text, visibility: a.visibility ?? "comment" });
        return { ticket: a.ticket, seq: entry.seq, visibility: entry.visibility, at: entry.at };
      },
    ),
  ];
}
