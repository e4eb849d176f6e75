import { createWorkBoard, createWorkService } from "../../../core/agents/work";
import { createWorkStore } from "../../../core/db/work.repository";
import { agentRepositories, agents } from "./agents";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { table } from "./table";

export const workStore = lazy(() => createWorkStore(table().options));

/** The work board and the organization's work settings (no model calls: no openai, no classifier). */
export const workBoard = lazy(() => createWorkBoard({ work: workStore() }));

/** Ends tasks that failed every retry (the dead-letter consumer): no agent runtime, no model client. */
export const workEnding = lazy(() =>
  createWorkService({ work: workStore(), messages: agentRepositories().messages, agents: agents(), events: realtime().events }),
);
