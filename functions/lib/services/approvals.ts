import { createApprovalService } from "../../../core/approvals/approval-service";
import { deferredHierarchyTools } from "../../../core/approvals/deferred-tools";
import type { ToolContext } from "../../../core/agents/tools";
import { createApprovalStore } from "../../../core/db/approval.repository";
import { forbidden, notFound } from "../../../core/errors";
import { createItsmTools } from "../../../core/tickets/itsm-tools";
import { agentRepositories, agents } from "./agents";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { table } from "./table";
import { tickets } from "./tickets";

/**
 * Approvals (core/approvals): the store, the agents' inboxes for the decision messages, and the
 * executor of an approved call, which runs it as the requesting agent through the tools its role
 * lists (the ITSM tools and the hierarchy's), so every rule of a chat turn's call still applies.
 */
export const approvals = lazy(() => {
  const itsmTools = createItsmTools({ tickets: tickets() });
  return createApprovalService({
    store: createApprovalStore(table().options),
    messages: agentRepositories().messages,
    events: realtime().events,
    async execute(orgId, agentId, name, args) {
      const agent = await agentRepositories().agents.get(orgId, agentId);
      if (!agent) throw notFound("Agent", agentId);
      const role = await agents().roleOf(orgId, agent.roleId);
      const context: ToolContext = { orgId, agentId, actor: `agent:${agentId}`, actorName: agent.name };
      const tool = [...deferredHierarchyTools(agents(), context), ...itsmTools].find((t) => t.name === name && role.tools.includes(t.name));
      if (!tool) throw forbidden(`Tool '${name}' is not available to the ${role.name} role.`, "tool_not_allowed");
      return tool.execute(args, context);
    },
  });
});
