import { createAgentRepositories } from "../../../core/db/agent.repository";
import { createAssignmentGroupStore } from "../../../core/db/assignment-group.repository";
import { createAssignmentGroupService } from "../../../core/tickets/assignment-group-service";
import type { AgentDirectory } from "../../../core/tickets/ports";
import { createTicketSettingsStore, createTicketStore } from "../../../core/db/ticket.repository";
import { createTicketService } from "../../../core/tickets/ticket-service";
import { access } from "./access";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { table } from "./table";

/** ITSM tickets: incidents, service requests, changes, problems. */
export const tickets = lazy(() => {
  const { options } = table();
  return createTicketService({
    store: createTicketStore(options),
    orgs: access().orgStore,
    settings: createTicketSettingsStore(options),
    events: realtime().events,
    // Assignees must be agents of the organization; their role and level decide change authority.
    agents: agentDirectory(),
    groups: createAssignmentGroupStore(options),
  });
});

/** Assignment groups (teams of agents tickets are assigned to). */
export const assignmentGroups = lazy(() => createAssignmentGroupService({ store: createAssignmentGroupStore(table().options), agents: agentDirectory() }));

/** The organization's agents as the ticket domain sees them. */
const agentDirectory = lazy((): AgentDirectory => {
  const agents = createAgentRepositories(table().options).agents;
  return {
    find: async (orgId, agentId) => {
      const agent = await agents.get(orgId, agentId);
      return agent && { id: agent.id, name: agent.name, roleId: agent.roleId, level: agent.level };
    },
  };
});
