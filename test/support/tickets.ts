import { createAssignmentGroupStore } from "../../core/db/assignment-group.repository";
import { createDocumentClient } from "../../core/db/client";
import { createOrganizationStore } from "../../core/db/organization.repository";
import { createTicketSettingsStore, createTicketStore } from "../../core/db/ticket.repository";
import type { OrgEvent } from "../../core/realtime/events";
import type { Clock } from "../../core/shared/clock";
import type { AgentInfo, TicketActor } from "../../core/tickets/ports";
import { createTicketService } from "../../core/tickets/ticket-service";
import { allowedTransitions, type Workflow } from "../../core/tickets/state-machines";
import type { TicketState } from "../../core/tickets/ticket.schema";
import type { Platform } from "../../local/platform";

/** A clock the test moves by hand: SLA tests never sleep. */
export function manualClock(start: Date) {
  let now = start.getTime();
  return {
    now: () => new Date(now),
    advanceMinutes(minutes: number) {
      now += minutes * 60_000;
    },
  } satisfies Clock & Record<string, unknown>;
}

/** An event publisher that keeps what it was given. */
export function recordingEvents() {
  const events: OrgEvent[] = [];
  return { events, publish: async (event: OrgEvent) => void events.push(event) };
}

/**
 * The real ticket service and repositories against the test platform's DynamoDB Local, with the
 * test's clock, event recorder and agent directory (the agents known to the test).
 */
export function ticketServiceFor(platform: Platform, options: { clock?: Clock; agents?: AgentInfo[] } = {}) {
  const client = createDocumentClient({ endpoint: platform.dynamoDbEndpoint, region: process.env.AWS_REGION ?? "us-east-1" });
  const repo = { client, table: platform.tableName };
  const recorder = recordingEvents();
  const agentList = options.agents ?? [];
  const service = createTicketService({
    store: createTicketStore(repo),
    orgs: createOrganizationStore(repo),
    settings: createTicketSettingsStore(repo),
    events: recorder,
    agents: { find: async (_orgId, agentId) => agentList.find((a) => a.id === agentId) },
    groups: createAssignmentGroupStore(repo),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { service, events: recorder.events, client, close: () => client.destroy() };
}

export const person = (orgId: string, keyId = "01jpersnkey000000000000000"): TicketActor => ({ kind: "person", orgId, actor: `key:${keyId}`, keyId });
export const agent = (orgId: string, agentId: string): TicketActor => ({ kind: "agent", orgId, agentId, actor: `agent:${agentId}` });

/** The shortest way from `new` to `target` in a workflow (breadth-first), as the list of states to move to. */
export function pathTo(workflow: Workflow, target: TicketState): TicketState[] {
  const previous = new Map<TicketState, TicketState>();
  const queue: TicketState[] = ["new"];
  const seen = new Set<TicketState>(["new"]);
  while (queue.length) {
    const state = queue.shift()!;
    if (state === target) break;
    for (const next of allowedTransitions(workflow, state)) {
      if (seen.has(next)) continue;
      seen.add(next);
      previous.set(next, state);
      queue.push(next);
    }
  }
  const path: TicketState[] = [];
  for (let state: TicketState | undefined = target; state && state !== "new"; state = previous.get(state)) path.unshift(state);
  if (target !== "new" && path[0] === undefined) throw new Error(`${target} is unreachable in ${workflow}`);
  return path;
}

/** What a transition into `to` needs in its body to pass its guard (hold reason, resolution, close code). */
export function bodyFor(workflow: Workflow, from: TicketState, to: TicketState): { to: TicketState; reason?: string; note?: string } {
  if (to === "on_hold") return { to, reason: "awaiting_vendor" };
  if (to === "resolved" && workflow === "incident") return { to, reason: "solved_permanently", note: "Restarted the service." };
  if (to === "resolved" && workflow === "problem") return { to, reason: "fix_applied", note: "Patched." };
  if (workflow.startsWith("change:") && from === "review" && to === "closed") return { to, reason: "successful", note: "Implemented as planned." };
  if (workflow.startsWith("change:") && from === "authorize" && to === "new") return { to, reason: "Needs a rollback plan" };
  return { to };
}
