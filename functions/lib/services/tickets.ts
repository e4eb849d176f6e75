import { createAgentRepositories } from "../../../core/db/agent.repository";
import { createTicketSettingsStore, createTicketStore } from "../../../core/db/ticket.repository";
import { createTicketService } from "../../../core/tickets/ticket-service";
import { access } from "./access";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { table } from "./table";

/** ITSM tickets: incidents, service requests, changes, problems. */
export const tickets = lazy(() => {
  const { options } = table();
  const agents = createAgentRepositories(options).agents;
  return createTicketService({
    store: createTicketStore(options),
    orgs: access().orgStore,
    settings: createTicketSettingsStore(options),
    events: realtime().events,
    // Assignees must be agents of the organization; their role and level decide change authority.
    agents: {
      find: async (orgId, agentId) => {
        const agent = await agents.get(orgId, agentId);
        return agent && { id: agent.id, roleId: agent.roleId, level: agent.level };
      },
    },
  });
});
