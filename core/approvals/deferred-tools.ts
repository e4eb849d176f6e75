import type { AgentService } from "../agents/agent-service";
import type { AgentTool, ToolContext } from "../agents/tools";
import { invalidInput } from "../errors";

const str = (args: unknown, name: string): string => {
  const value = (args as Record<string, unknown> | null)?.[name];
  if (typeof value !== "string" || !value.trim()) throw invalidInput(`Argument '${name}' must be a non-empty string.`, [{ field: name, message: "must be a non-empty string" }], "tool_arguments_invalid");
  return value;
};

/**
 * The hierarchy's tools for running an approved call outside a chat turn (core/approvals): the same
 * names, arguments and hierarchy rules (AgentService.send routes every message) as the runtime's. A
 * delegation made this way is left in the subordinate's inbox (`queued`) rather than run inside a
 * turn, which is what the work queue does with every delegation.
 */
export function deferredHierarchyTools(agents: Pick<AgentService, "send">, context: ToolContext): AgentTool[] {
  const acting = { orgId: context.orgId, actor: context.actor };
  const tool = (name: string, run: (args: unknown) => Promise<unknown>): AgentTool => ({ name, description: name, parameters: { type: "object" }, execute: (args) => run(args) });
  return [
    tool("delegate_task", async (args) => {
      const [message] = await agents.send(acting, context.agentId, { kind: "delegate", to: str(args, "to"), body: str(args, "task") });
      return { messageId: message!.id, status: "queued" };
    }),
    tool("escalate", async (args) => {
      const [message] = await agents.send(acting, context.agentId, { kind: "escalate", body: str(args, "summary") });
      return { messageId: message!.id, to: message!.to };
    }),
    tool("send_message", async (args) => {
      const [message] = await agents.send(acting, context.agentId, { kind: "direct", to: str(args, "to"), body: str(args, "body") });
      return { messageId: message!.id, path: message!.path };
    }),
    tool("broadcast", async (args) => ({ recipients: (await agents.send(acting, context.agentId, { kind: "broadcast", body: str(args, "body") })).length })),
  ];
}
