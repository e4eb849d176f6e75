import { createWorkService } from "../../../core/agents/work";
import { agentRuntime } from "./agent-runtime";
import { agentRepositories, agents } from "./agents";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { workStore } from "./work-board";

/** The work queue's worker core: agents working their tasks (model calls). */
export const work = lazy(() => createWorkService({ work: workStore(), messages: agentRepositories().messages, agents: agents(), runtime: agentRuntime(), events: realtime().events }));
