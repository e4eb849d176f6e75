import type { AgentRecord, MessageRecord, SendMessageInput } from "../agents/agent.schema";
import { isDomainError } from "../errors";
import type { TicketActor, TicketRecord, TicketStore } from "./ports";
import { priorityLabel, priorityOf } from "./priority";
import { isFinal } from "./state-machines";
import type { TicketService } from "./ticket-service";
import type { TicketType } from "./ticket.schema";

/**
 * Triage on ticket creation (functions/stream/ticket-triage.ts feeds it the ticket inserts): the
 * organization's agent of the ITSM role for the ticket's type fills what the creator left out
 * (impact, urgency, category), assigns the ticket to itself when nobody has it, links likely
 * duplicates and a known problem, writes a work note with its reasoning, and escalates a P1 incident
 * to its manager at once. Deterministic rules (no model call), so it works offline and the same
 * ticket always gets the same triage; the note says so.
 */

/** The ITSM role that triages each ticket type (core/agents/roles.ts). */
export const TRIAGE_ROLE_OF: Record<TicketType, string> = {
  incident: "incident-manager",
  service_request: "service-request-agent",
  change: "change-manager",
  problem: "problem-manager",
};

/** Open tickets compared for duplicates (one page of the newest), and links made at most. */
export const DUPLICATE_CANDIDATES = 50;
export const MAX_DUPLICATES = 3;
/** Token overlap (Jaccard) from which two short descriptions are taken as the same issue, and the fewest shared words. */
export const SIMILARITY_THRESHOLD = 0.5;
const MIN_SHARED_TOKENS = 2;

const STOPWORDS = new Set(
  "the a an and or of to for in on at is are was were be been it its this that with from by not no can cannot cant does doesnt dont do has have had my our we i me you your all".split(" "),
);

/** Lowercase words of 2+ characters, stopwords dropped (as a set). */
export function tokens(text: string): Set<string> {
  const words = text.toLowerCase().normalize("NFKC").split(/[^\p{L}\p{N}]+/u);
  return new Set(words.filter((w) => w.length >= 2 && !STOPWORDS.has(w)));
}

/** Jaccard similarity of two token sets and the number of shared tokens. */
export function similarity(a: Set<string>, b: Set<string>): { score: number; shared: number } {
  let shared = 0;
  for (const t of a) if (b.has(t)) shared += 1;
  const union = a.size + b.size - shared;
  return { score: union ? shared / union : 0, shared };
}

const has = (text: string, words: readonly string[]) => words.find((w) => new RegExp(`(^|[^\\p{L}])${w}([^\\p{L}]|$)`, "u").test(text));

/** Category keywords, first match wins (the categories the ITSM tools suggest). */
const CATEGORY_WORDS: [string, string[]][] = [
  ["access", ["password", "login", "log in", "sign in", "locked out", "account", "permission", "permissions", "access", "mfa", "sso", "2fa"]],
  ["network", ["network", "vpn", "wifi", "wi-fi", "dns", "firewall", "internet", "latency", "proxy", "bandwidth", "connectivity"]],
  ["hardware", ["laptop", "printer", "monitor", "keyboard", "mouse", "disk", "battery", "screen", "docking", "headset", "phone"]],
  ["software", ["application", "app", "software", "crash", "crashes", "error", "bug", "install", "upgrade", "license", "email", "mail", "outlook", "service", "website", "portal", "database"]],
];
const IMPACT_WORDS: Record<1 | 2, string[]> = {
  1: ["all users", "everyone", "everybody", "whole company", "company-wide", "entire", "all customers", "all staff", "organization-wide", "outage", "for all"],
  2: ["department", "team", "group", "several users", "multiple users", "some users", "office", "floor", "site"],
};
const URGENCY_WORDS: Record<1 | 2, string[]> = {
  1: ["down", "outage", "stopped", "cannot work", "can't work", "not working", "no workaround", "urgent", "critical", "asap", "emergency", "unusable"],
  2: ["slow", "degraded", "intermittent", "impaired", "sometimes", "workaround"],
};

export interface TriageContext {
  /** The ITSM agent triaging. */
  agent: Pick<AgentRecord, "id" | "name">;
  /** Open tickets of the same type, newest first (the ticket itself may be among them). */
  candidates: readonly TicketRecord[];
  /** Open problems (for incidents), newest first. */
  problems: readonly TicketRecord[];
}

export interface TriagePlan {
  set: Partial<Pick<TicketRecord, "impact" | "urgency" | "category" | "assignedTo">>;
  /** Older open tickets of the same type that look like the same issue, most similar first. */
  duplicates: { id: string; number: string; score: number }[];
  /** An open problem (known errors first) that looks like the cause. */
  problem?: { id: string; number: string; knownError: boolean; score: number };
  /** The priority after triage. */
  priority: number;
  reasons: string[];
}

/**
 * The pure triage decision for a ticket as it is now: fills only what the creator left out
 * (`defaulted` impact/urgency, a null category, no assignee), by keyword rules over the title and
 * description; finds duplicates and a known problem by token overlap of the short descriptions.
 */
export function decideTriage(ticket: TicketRecord, context: TriageContext): TriagePlan {
  const text = `${ticket.title}\n${ticket.description}`.toLowerCase();
  const set: TriagePlan["set"] = {};
  const reasons: string[] = [];
  const defaulted = new Set(ticket.defaulted ?? []);

  if (defaulted.has("impact")) {
    const level = ([1, 2] as const).find((l) => has(text, IMPACT_WORDS[l]));
    const impact = level ?? 3;
    set.impact = impact;
    reasons.push(level ? `Impact ${impact}: the report says "${has(text, IMPACT_WORDS[level])}".` : "Impact 3: nothing says more than one user is affected.");
  } else reasons.push(`Impact ${ticket.impact}: as reported.`);
  if (defaulted.has("urgency")) {
    const level = ([1, 2] as const).find((l) => has(text, URGENCY_WORDS[l]));
    const urgency = level ?? 3;
    set.urgency = urgency;
    reasons.push(level ? `Urgency ${urgency}: the report says "${has(text, URGENCY_WORDS[level])}".` : "Urgency 3: nothing says work has stopped or is impaired.");
  } else reasons.push(`Urgency ${ticket.urgency}: as reported.`);
  const priority = priorityOf(set.impact ?? ticket.impact, set.urgency ?? ticket.urgency);
  reasons.push(`Priority ${priority} (${priorityLabel(priority)}) from the impact x urgency matrix.`);

  if (ticket.category === null) {
    const found = CATEGORY_WORDS.find(([, words]) => has(text, words));
    if (found) {
      set.category = found[0];
      reasons.push(`Category ${found[0]}: the report mentions "${has(text, found[1])}".`);
    } else reasons.push("Category left empty: no keyword matched.");
  }
  if (ticket.assignedTo === null) {
    set.assignedTo = context.agent.id;
    reasons.push(`Assigned to ${context.agent.name} (the organization's ${TRIAGE_ROLE_OF[ticket.type]}).`);
  }

  const own = tokens(ticket.title);
  const duplicates = context.candidates
    .filter((t) => t.id !== ticket.id && t.type === ticket.type && !isFinal(t.state) && t.id < ticket.id && !ticket.links.some((l) => l.id === t.id))
    .map((t) => ({ t, ...similarity(own, tokens(t.title)) }))
    .filter((m) => m.score >= SIMILARITY_THRESHOLD && m.shared >= MIN_SHARED_TOKENS)
    .sort((a, b) => b.score - a.score || a.t.id.localeCompare(b.t.id))
    .slice(0, MAX_DUPLICATES)
    .map((m) => ({ id: m.t.id, number: m.t.number, score: Math.round(m.score * 100) / 100 }));
  for (const d of duplicates) reasons.push(`Likely duplicate of ${d.number} (similarity ${d.score}).`);

  let problem: TriagePlan["problem"];
  if (ticket.type === "incident" && !ticket.links.some((l) => l.kind === "problem")) {
    const match = context.problems
      .filter((p) => p.type === "problem" && !isFinal(p.state))
      .map((p) => ({ p, ...similarity(tokens(`${ticket.title} ${ticket.description}`), tokens(`${p.title} ${p.workaround ?? ""}`)) }))
      .filter((m) => m.shared >= MIN_SHARED_TOKENS && m.score >= SIMILARITY_THRESHOLD / 2)
      .sort((a, b) => Number(b.p.knownError ?? false) - Number(a.p.knownError ?? false) || b.score - a.score)[0];
    if (match) {
      problem = { id: match.p.id, number: match.p.number, knownError: match.p.knownError ?? false, score: Math.round(match.score * 100) / 100 };
      reasons.push(`Linked to ${problem.knownError ? "known error" : "problem"} ${problem.number}${match.p.workaround ? `; workaround: ${match.p.workaround}` : ""}.`);
    }
  }
  if (ticket.type === "incident" && priority === 1) reasons.push("Priority 1 incident: escalated to my manager at once.");
  return { set, duplicates, ...(problem ? { problem } : {}), priority, reasons };
}

export interface TriageDeps {
  store: Pick<TicketStore, "get" | "list">;
  tickets: Pick<TicketService, "applyTriage" | "link">;
  agents: { list(orgId: string): Promise<AgentRecord[]> };
  /** Sends a message as an agent along the hierarchy (AgentService.send). */
  send(acting: { orgId: string; actor: string }, senderId: string, input: SendMessageInput): Promise<MessageRecord[]>;
}

export type TriageOutcome =
  | { triaged: false; reason: "not_found" | "ended" | "already_triaged" | "no_itsm_agent" }
  | { triaged: true; agentId: string; plan: TriagePlan; linked: string[]; escalated: boolean; failures: string[] };

/** The ITSM agent that triages a type: the oldest active agent of its role (ids sort by creation). */
export function triageAgent(type: TicketType, agents: readonly AgentRecord[]): AgentRecord | undefined {
  const role = TRIAGE_ROLE_OF[type];
  return agents.filter((a) => a.roleId === role && a.status === "active").sort((a, b) => a.id.localeCompare(b.id))[0];
}

/**
 * Triages one ticket. The claim is the ticket service's conditional write (fields, work note and
 * `triagedAt` together): only the caller that wins it links and escalates, so a redelivered record
 * triages once. Links and the escalation follow that write; a crash between them loses them (at most
 * once, like the SLA sweep's escalation) and the work note still says what was decided.
 */
export async function triageTicket(deps: TriageDeps, orgId: string, ticketId: string): Promise<TriageOutcome> {
  const ticket = await deps.store.get(orgId, ticketId);
  if (!ticket) return { triaged: false, reason: "not_found" };
  if (isFinal(ticket.state)) return { triaged: false, reason: "ended" };
  if (ticket.triagedAt) return { triaged: false, reason: "already_triaged" };
  const agent = triageAgent(ticket.type, await deps.agents.list(orgId));
  if (!agent) return { triaged: false, reason: "no_itsm_agent" };

  const [candidates, problems] = await Promise.all([
    deps.store.list(orgId, { active: true, type: ticket.type }, { limit: DUPLICATE_CANDIDATES }),
    ticket.type === "incident" ? deps.store.list(orgId, { active: true, type: "problem" }, { limit: DUPLICATE_CANDIDATES }) : Promise.resolve({ items: [] as TicketRecord[] }),
  ]);
  const actor: TicketActor = { kind: "agent", orgId, agentId: agent.id, actor: `agent:${agent.id}`, name: agent.name };
  let plan: TriagePlan | undefined;
  const { applied, ticket: after } = await deps.tickets.applyTriage(actor, ticket.id, (current) => {
    plan = decideTriage(current, { agent, candidates: candidates.items, problems: problems.items });
    return { set: plan.set, note: `Triage by ${agent.name} (deterministic rules, no model):\n${plan.reasons.map((r) => `- ${r}`).join("\n")}` };
  });
  if (!applied || !plan) return { triaged: false, reason: after.triagedAt ? "already_triaged" : "ended" };

  const linked: string[] = [];
  const failures: string[] = [];
  for (const duplicate of plan.duplicates) {
    try {
      await deps.tickets.link(actor, ticket.id, duplicate.id, { as: "duplicate" });
      linked.push(duplicate.number);
    } catch (error) {
      // A duplicate closed meanwhile, or one with too many links: the note still names it.
      if (!isDomainError(error)) throw error;
      failures.push(`${duplicate.number}: ${error.code}`);
    }
  }
  if (plan.problem) {
    try {
      await deps.tickets.link(actor, ticket.id, plan.problem.id);
      linked.push(plan.problem.number);
    } catch (error) {
      if (!isDomainError(error)) throw error;
      failures.push(`${plan.problem.number}: ${error.code}`);
    }
  }
  let escalated = false;
  if (after.type === "incident" && after.priority === 1 && agent.managerId) {
    try {
      await deps.send({ orgId, actor: actor.actor }, agent.id, {
        kind: "escalate",
        subject: `P1 incident ${after.number}`,
        body: `Priority 1 (Critical) incident ${after.number} "${after.title}" was opened and triaged by ${agent.name}; it is assigned to ${after.assignedTo ?? "nobody"}. ${plan.reasons.join(" ")}`,
      });
      escalated = true;
    } catch (error) {
      if (!isDomainError(error)) throw error;
      failures.push(`escalation: ${error.code}`);
    }
  }
  return { triaged: true, agentId: agent.id, plan, linked, escalated, failures };
}
