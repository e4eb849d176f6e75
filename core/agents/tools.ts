/**
 * The contract between the agent runtime (core/agents) and the tools agents may call through OpenAI
 * function calling. A tool describes itself with a JSON Schema for its arguments and executes on
 * behalf of an agent of an organization; it validates its own arguments and throws DomainErrors
 * (their `code` and message go back to the model as the tool's result, so it can correct itself).
 */
export interface ToolContext {
  orgId: string;
  /** The agent calling the tool. */
  agentId: string;
  /** Recorded as `updatedBy` of what the tool changes: `agent:<agentId>`. */
  actor: string;
  /** The agent's name, recorded next to `actor` where a record names its actor (ticket history). */
  actorName?: string;
}

export interface AgentTool {
  /** Function name, `^[a-zA-Z0-9_-]{1,64}$`. */
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  execute(args: unknown, context: ToolContext): Promise<unknown>;
}
