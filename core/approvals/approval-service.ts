import type { MessageRecord } from "../agents/agent.schema";
import type { Role } from "../agents/roles";
import type { ToolContext } from "../agents/tools";
import type { Principal } from "../auth/principal";
import { conflict, forbidden, isDomainError, notFound } from "../errors";
import { newId } from "../ids";
import { type EventPublisher, noEvents } from "../realtime/events";
import { type Clock, systemClock } from "../shared/clock";
import type { Page, PageRequest } from "../tenants/ports";
import type { ApprovalStatus, ApprovalView } from "./approval.schema";
import type { ApprovalRecord, ApprovalStore } from "./ports";

/** How long a request waits for a decision before it expires (then the agent must ask again). */
export const APPROVAL_TTL_MS = 7 * 24 * 60 * 60 * 1_000;

/** A tool call as the runtime's gate sees it: parsed arguments and the calling agent's role. */
export interface GatedCall {
  name: string;
  args: unknown;
  role: Pick<Role, "id" | "approvalRequired">;
}

export interface ApprovalServiceDeps {
  store: ApprovalStore;
  /**
   * Runs a tool call as the agent that asked for it: the same tool, through the same tools registry
   * as its turn (the role's tool list, the hierarchy and ITSM rules), for an approved request.
   */
  execute(orgId: string, agentId: string, tool: string, args: unknown): Promise<unknown>;
  /** Delivers messages into agents' inboxes (MessageStore.deliver). */
  messages: { deliver(orgId: string, messages: MessageRecord[]): Promise<void> };
  events?: EventPublisher;
  clock?: Clock;
  ttlMs?: number;
}

/**
 * The role's approvalRequired entry a call matches, if any: a bare tool name matches every call of
 * the tool; `<tool>:<state>` matches calls whose `to` argument is that state (transition_ticket).
 */
export function approvalRuleFor(call: GatedCall): string | undefined {
  const to = (call.args as { to?: unknown } | null)?.to;
  return (call.role.approvalRequired ?? []).find((rule) => {
    const [tool, state] = rule.split(":");
    return tool === call.name && (state === undefined || to === state);
  });
}

const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** What a deferred call would do, for the person deciding. */
export function summarize(agentName: string, tool: string, args: unknown): string {
  const a = (args ?? {}) as Record<string, unknown>;
  if (tool === "transition_ticket" && typeof a.ticket === "string" && typeof a.to === "string") {
    return `${agentName} wants to move ${a.ticket} to ${a.to}${typeof a.note === "string" ? `: ${clip(a.note, 200)}` : ""}.`;
  }
  return `${agentName} wants to call ${tool} with ${clip(JSON.stringify(args ?? {}), 300)}.`;
}

/** The person deciding: an organization key (the operator key holds no organization's approvals). */
function deciderOf(principal: Principal): { orgId: string; actor: string; name: string } {
  if (principal.kind !== "org") throw forbidden("Approvals belong to an organization: use one of its API keys.", "org_key_required");
  const actor = `key:${principal.keyId}`;
  return { orgId: principal.orgId, actor, name: principal.keyName ?? actor };
}

/**
 * People in the loop: an agent's tool call its role marks as needing approval does not run; the
 * runtime's gate stores it as an approval request and tells the model it is pending. A person
 * approves it (the call then runs as the agent, and the agent is told the result by message) or
 * rejects it (nothing runs; the agent is told why). A decision is one conditional write on a pending,
 * unexpired request, so of two concurrent decisions exactly one wins (409 `approval_decided`).
 */
export function createApprovalService(deps: ApprovalServiceDeps) {
  const { store, execute, messages, clock = systemClock, ttlMs = APPROVAL_TTL_MS } = deps;
  const events = deps.events ?? noEvents;

  const view = (record: ApprovalRecord, now: Date): ApprovalView => {
    const { orgId: _org, ...fields } = record;
    const status: ApprovalStatus = record.status === "pending" && Date.parse(record.expiresAt) <= now.getTime() ? "expired" : record.status;
    return { ...fields, status };
  };

  async function publish(type: string, orgId: string, data: Record<string, unknown>) {
    try {
      await events.publish({ type, orgId, time: clock.now().toISOString(), data });
    } catch {
      // Best effort: a subscriber that cannot be reached never undoes a decision.
    }
  }

  async function load(orgId: string, id: string): Promise<ApprovalRecord> {
    const record = await store.get(orgId, id);
    if (!record) throw notFound("Approval", id);
    return record;
  }

  /** Tells the requesting agent what became of its request (a direct message from the system). */
  async function tell(record: ApprovalRecord, decidedBy: string, subject: string, body: string) {
    const at = clock.now().toISOString();
    const message: MessageRecord = {
      id: newId(),
      kind: "direct",
      from: "system",
      to: record.requestedBy,
      subject,
      body,
      status: "queued",
      path: ["system", record.requestedBy],
      createdAt: at,
      updatedAt: at,
      sentBy: decidedBy,
    };
    await messages.deliver(record.orgId, [message]);
    await publish("message.created", record.orgId, { message });
  }

  async function decide(principal: Principal, id: string, status: "approved" | "rejected", reason: string | undefined): Promise<ApprovalRecord> {
    const decider = deciderOf(principal);
    const decidedAt = clock.now().toISOString();
    const result = await store.decide(decider.orgId, id, { status, decidedBy: decider.actor, decidedByName: decider.name, decidedAt, ...(reason !== undefined ? { reason } : {}) });
    if (result === "missing") throw notFound("Approval", id);
    if (result === "expired") throw conflict(`Approval ${id} expired before it was decided; the agent has to ask again.`, "approval_expired", { id });
    if (result === "decided") {
      const current = await store.get(decider.orgId, id);
      throw conflict(`Approval ${id} was already ${current?.status ?? "decided"}.`, "approval_decided", { id, decision: current?.status ?? null });
    }
    const record = await load(decider.orgId, id);
    await publish(`approval.${status}`, decider.orgId, { id, requestedBy: record.requestedBy, tool: record.action.tool, decidedBy: decider.actor });
    return record;
  }

  return {
    /**
     * The agent runtime's gate (RuntimeDeps.gate): a call the role marks as needing approval becomes a
     * pending request instead of running; any other call runs (undefined).
     */
    async gate(context: ToolContext, call: GatedCall): Promise<{ pending: ApprovalRecord } | undefined> {
      const rule = approvalRuleFor(call);
      if (!rule) return undefined;
      const now = clock.now();
      const name = context.actorName ?? context.agentId;
      const record: ApprovalRecord = {
        id: newId(),
        orgId: context.orgId,
        kind: "tool_call",
        requestedBy: context.agentId,
        requestedByName: name,
        summary: summarize(name, call.name, call.args),
        action: { tool: call.name, arguments: call.args ?? {}, rule },
        status: "pending",
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + ttlMs).toISOString(),
      };
      await store.create(record);
      await publish("approval.requested", context.orgId, { id: record.id, requestedBy: record.requestedBy, tool: call.name, summary: record.summary });
      return { pending: record };
    },

    async list(principal: Principal, filter: { status?: ApprovalStatus }, page: PageRequest): Promise<Page<ApprovalView>> {
      const { orgId } = deciderOf(principal);
      const now = clock.now();
      const result = await store.list(orgId, { ...filter, now: now.toISOString() }, page);
      const items = result.items.map((r) => view(r, now));
      return result.cursor ? { items, cursor: result.cursor } : { items };
    },

    async get(principal: Principal, id: string): Promise<ApprovalView> {
      return view(await load(deciderOf(principal).orgId, id), clock.now());
    },

    /**
     * Approves a pending request, then runs the deferred call as the agent and stores its outcome; the
     * agent gets a message with the result. A call the tool refuses (its rules still hold) is an
     * outcome too (`ok: false`), not an error of the approval.
     */
    async approve(principal: Principal, id: string, comment?: string): Promise<ApprovalView> {
      const record = await decide(principal, id, "approved", comment);
      let outcome: { ok: boolean; result: unknown };
      try {
        outcome = { ok: true, result: await execute(record.orgId, record.requestedBy, record.action.tool, record.action.arguments) };
      } catch (error) {
        if (!isDomainError(error)) throw error;
        outcome = { ok: false, result: { error: { code: error.code, message: error.message } } };
      }
      await store.recordOutcome(record.orgId, id, outcome);
      const text = clip(JSON.stringify(outcome.result ?? null), 4_000);
      await tell(
        record,
        record.decidedBy!,
        `Approved: ${record.action.tool}`,
        `${record.decidedByName ?? record.decidedBy} approved your request (${record.summary})${comment ? ` with the comment: ${comment}` : ""}. ` +
          (outcome.ok ? `It ran; the result: ${text}` : `It was run but refused: ${text}`),
      );
      return view({ ...record, outcome }, clock.now());
    },

    /** Rejects a pending request: nothing runs; the agent gets a message saying why. */
    async reject(principal: Principal, id: string, reason: string): Promise<ApprovalView> {
      const record = await decide(principal, id, "rejected", reason);
      await tell(record, record.decidedBy!, `Rejected: ${record.action.tool}`, `${record.decidedByName ?? record.decidedBy} rejected your request (${record.summary}). Reason: ${reason}. Nothing was done.`);
      return view(record, clock.now());
    },
  };
}

export type ApprovalService = ReturnType<typeof createApprovalService>;
