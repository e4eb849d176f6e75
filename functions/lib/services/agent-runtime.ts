import { createAgentRuntime } from "../../../core/agents/runtime";
import { createItsmTools } from "../../../core/tickets/itsm-tools";
import { agentRepositories, agents } from "./agents";
import { approvals } from "./approvals";
import { chat } from "./chat";
import { lazy } from "./lazy";
import { tickets } from "./tickets";

/**
 * The agent runtime: an agent's chat turn with its tools (the hierarchy's, and the ITSM tools its role
 * lists), through the router; calls that need approval wait for a person.
 */
export const agentRuntime = lazy(() => {
  const itsmTools = createItsmTools({ tickets: tickets() });
  return createAgentRuntime({
    chat: chat(),
    agents: agents(),
    store: agentRepositories().agents,
    extraTools: () => itsmTools,
    // Calls the agent's role marks as needing approval wait for a person (GET /approvals).
    gate: (context, call) => approvals().gate(context, call),
  });
});
