import { createAgentService } from "../../../core/agents/agent-service";
import { createAgentRepositories } from "../../../core/db/agent.repository";
import { access } from "./access";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { table } from "./table";

export const agentRepositories = lazy(() => createAgentRepositories(table().options));

/** Agents, roles, the hierarchy and messages between agents (no model calls). */
export const agents = lazy(() => createAgentService({ ...agentRepositories(), orgs: access().orgStore, events: realtime().events }));
