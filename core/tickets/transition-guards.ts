import { DomainError, type FieldError, forbidden, invalidInput } from "../errors";
import type { ChangeAuthority, TicketActor, TicketRecord } from "./ports";
import type { Guard } from "./state-machines";
import {
  CHANGE_CLOSE_CODES,
  HOLD_REASONS,
  INCIDENT_RESOLUTION_CODES,
  PROBLEM_RESOLUTION_CODES,
  type Approval,
  type HistoryEntry,
  type HoldReason,
  type TicketType,
  type TransitionInput,
} from "./ticket.schema";

/** The resolution (incident, problem) or close (change) codes of a type. */
export const RESOLUTION_CODES: Partial<Record<TicketType, readonly string[]>> = {
  incident: INCIDENT_RESOLUTION_CODES,
  problem: PROBLEM_RESOLUTION_CODES,
  change: CHANGE_CLOSE_CODES,
};

/** A history entry before the service stamps it (seq, time, actor). */
export type NewEntry = Omit<HistoryEntry, "seq" | "at" | "actor" | "actorName">;

/** What a guard sees: the ticket before the move, the request, who moves it and when. */
export interface GuardContext {
  ticket: TicketRecord;
  input: TransitionInput;
  actor: TicketActor;
  at: string;
  authority: ChangeAuthority;
}

/** What a passed guard adds to the move: fields to set on the ticket and history entries before the transition's own. */
export interface GuardEffect {
  set: Partial<TicketRecord>;
  entries?: NewEntry[];
}

/** Checks a guard and returns its effect, or throws the domain error that refuses the move. */
type GuardCheck = (context: GuardContext) => GuardEffect | Promise<GuardEffect>;

/** Resolution (incident, problem) and close code (change): a code of the type, and notes except for problems. */
function resolutionCheck(kind: "resolution" | "close"): GuardCheck {
  return ({ ticket, input }) => {
    const codes = RESOLUTION_CODES[ticket.type] ?? [];
    const code = input.reason ?? ticket.resolutionCode;
    const notes = input.note ?? ticket.resolutionNotes;
    const errors: FieldError[] = [];
    if (!code || !codes.includes(code)) errors.push({ field: "reason", message: `the ${kind} code: one of ${codes.join(", ")}` });
    if (!notes && ticket.type !== "problem") errors.push({ field: "note", message: `the ${kind} notes are required` });
    if (errors.length) {
      throw invalidInput(
        `${input.to === "resolved" ? "Resolving" : "Closing"} ${ticket.number} needs a ${kind} code${ticket.type === "problem" ? "" : " and notes"}.`,
        errors,
        "resolution_required",
      );
    }
    return { set: { resolutionCode: code, resolutionNotes: notes ?? null } };
  };
}

/** Approval or rejection of a change: needs change authority, and is recorded in `approvals`. */
function authorizationCheck(decision: Approval["decision"]): GuardCheck {
  return async ({ ticket, input, actor, at, authority }) => {
    if (!(await authority.mayAuthorize(actor))) {
      throw forbidden(
        `${actor.actor} has no authority to ${decision === "approved" ? "authorize" : "reject"} changes in this organization (see /api/v1/ticket-settings).`,
        "change_authority_required",
      );
    }
    // A rejection's reason is its comment; an approval's reason field is free text, its note the comment.
    const comment = decision === "approved" ? input.note : (input.reason ?? input.note);
    const approval: Approval = { approver: actor.actor, approverName: actor.name ?? actor.actor, approverKind: actor.kind, decision, at, ...(comment ? { comment } : {}) };
    return {
      set: { approvals: [...(ticket.approvals ?? []), approval], approval: decision },
      entries: [{ action: decision, changes: [{ field: "approval", from: ticket.approval ?? null, to: decision }], ...(comment ? { note: comment } : {}) }],
    };
  };
}

/**
 * The guards as a table (which transition has which guard is `GUARDS` in state-machines.ts): one
 * check per guard, so `transition()` runs whichever applies instead of keeping its own if-chain.
 */
export const GUARD_CHECKS: Record<Guard, GuardCheck> = {
  hold_reason: ({ input }) => {
    const errors = [{ field: "reason", message: `must be one of ${HOLD_REASONS.join(", ")}` }];
    if (!input.reason) throw invalidInput("Putting a ticket on hold needs a hold reason.", errors, "hold_reason_required");
    // A reason was given, just not one of ours: say so, rather than that none was given.
    if (!(HOLD_REASONS as readonly string[]).includes(input.reason)) {
      throw new DomainError("invalid_input", "hold_reason_invalid", `'${input.reason}' is not one of the hold reasons: ${HOLD_REASONS.join(", ")}.`, {
        errors,
        allowed: [...HOLD_REASONS],
      });
    }
    return { set: { holdReason: input.reason as HoldReason } };
  },
  resolution: resolutionCheck("resolution"),
  close_code: resolutionCheck("close"),
  approval: authorizationCheck("approved"),
  rejection: authorizationCheck("rejected"),
};
