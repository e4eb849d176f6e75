import { createAgentRepositories } from "../../core/db/agent.repository";
import { createTicketSettingsStore, createTicketStore } from "../../core/db/ticket.repository";
import { timeLeft } from "../../core/shared/deadline";
import { sweepSlas } from "../../core/tickets/sla-sweep";
import { deadlineOf, type InvocationContext } from "../lib/invocation";
import { logger } from "../lib/logger";
import { access } from "../lib/services/access";
import { realtime } from "../lib/services/realtime";
import { table } from "../lib/services/table";
import { tickets } from "../lib/services/tickets";

/**
 * The scheduled SLA sweep (functions/manifest/tickets.ts): marks at-risk and breached SLA clocks that
 * nobody has read, escalates breaches, and closes tickets resolved longer than their organization's
 * auto-close days (core/tickets/sla-sweep.ts), within this invocation's remaining time.
 */
export async function handler(_event: unknown, context?: InvocationContext) {
  const deadline = deadlineOf(context);
  const { options } = table();
  const repositories = createAgentRepositories(options);
  const service = tickets();
  const report = await sweepSlas({
    orgs: access().orgStore,
    tickets: createTicketStore(options),
    settings: createTicketSettingsStore(options),
    agents: repositories.agents,
    messages: repositories.messages,
    events: realtime().events,
    closeResolved: (actor, id, closing) => service.closeResolved(actor, id, closing),
    remainingMs: () => timeLeft(deadline),
  });
  // An operator sees what the sweep did; a quiet run (nothing new) logs nothing.
  if (report.breached || report.atRisk || report.escalated || report.escalatedToNobody || report.closed || report.failed || !report.complete) logger.info("SLAs swept", { ...report });
  return report;
}
