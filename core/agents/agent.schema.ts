import { z } from "../shared/zod";
import { idSchema } from "../shared/id.schema";
import { HIERARCHY_TOOLS, ITSM_TOOLS } from "./roles";

const TOOL_NAMES = [...HIERARCHY_TOOLS, ...ITSM_TOOLS] as const;
const AgentRef = idSchema("must be an agent id");
/** A tool call that waits for approval: a tool name, or `transition_ticket:<state>` for moves to that state. */
const ApprovalRule = z
  .string()
  .max(100)
  .refine((rule) => (TOOL_NAMES as readonly string[]).includes(rule.split(":")[0]!) && /^[a-z_]+(:[a-z_]+)?$/.test(rule), "must be a tool name, or transition_ticket:<state>")
  .meta({ description: "A tool name (every call waits for approval), or transition_ticket:<state> (moves to that state wait)" });

export const ModelPolicy = z
  .discriminatedUnion("routing", [
    z.strictObject({ routing: z.literal("auto") }),
    z.strictObject({ routing: z.literal("fixed"), tier: z.enum(["slm", "llm"]) }),
  ])
  .meta({ id: "ModelPolicy" });

export const Role = z
  .object({
    id: z.string(),
    name: z.string(),
    level: z.number().int().min(1).max(5),
    description: z.string(),
    systemPrompt: z.string(),
    tools: z.array(z.string()),
    approvalRequired: z.array(z.string()).optional().meta({ description: "Tool calls that wait for a person's approval (GET /approvals)" }),
    modelPolicy: ModelPolicy,
    builtIn: z.boolean(),
    createdAt: z.string().optional(),
    updatedAt: z.string().optional(),
  })
  .meta({ id: "Role" });

export const CreateRoleBody = z
  .strictObject({
    name: z.string().trim().min(1).max(80),
    level: z.number().int().min(1).max(5),
    description: z.string().max(2000).default(""),
    systemPrompt: z.string().min(1).max(20_000),
    tools: z.array(z.enum(TOOL_NAMES)).max(20).default([]),
    approvalRequired: z.array(ApprovalRule).max(20).optional(),
    modelPolicy: ModelPolicy.default({ routing: "auto" }),
  })
  .meta({ id: "CreateRole" });

export const UpdateRoleBody = z
  .strictObject({
    name: z.string().trim().min(1).max(80).optional(),
    level: z.number().int().min(1).max(5).optional(),
    description: z.string().max(2000).optional(),
    systemPrompt: z.string().min(1).max(20_000).optional(),
    tools: z.array(z.enum(TOOL_NAMES)).max(20).optional(),
    approvalRequired: z.array(ApprovalRule).max(20).optional(),
    modelPolicy: ModelPolicy.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "at least one field must be given" })
  .meta({ id: "UpdateRole" });

export const Agent = z
  .object({
    id: z.string(),
    name: z.string(),
    roleId: z.string(),
    level: z.number().int(),
    managerId: z.string().nullable(),
    status: z.enum(["active", "paused"]),
    routing: z.enum(["auto", "off"]).meta({ description: "off: the role's fixed tier (or the SLM) for every query" }),
    createdAt: z.string(),
    updatedAt: z.string(),
    version: z.number().int().optional().meta({ description: "Incremented by every change (optimistic concurrency)" }),
  })
  .meta({ id: "Agent" });

export const CreateAgentBody = z
  .strictObject({
    name: z.string().trim().min(1).max(80),
    roleId: z.string().min(1).max(64),
    managerId: AgentRef.nullable().default(null),
    status: z.enum(["active", "paused"]).default("active"),
    routing: z.enum(["auto", "off"]).default("auto"),
  })
  .meta({ id: "CreateAgent" });

export const UpdateAgentBody = z
  .strictObject({
    name: z.string().trim().min(1).max(80).optional(),
    roleId: z.string().min(1).max(64).optional(),
    managerId: AgentRef.nullable().optional(),
    status: z.enum(["active", "paused"]).optional(),
    routing: z.enum(["auto", "off"]).optional(),
    /** Where the agent's direct reports go when it moves under another manager: "self" keeps them with it. */
    reassignReportsTo: z.union([z.literal("self"), AgentRef]).optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: "at least one field must be given" })
  .meta({ id: "UpdateAgent" });

export const DeleteAgentQuery = z.object({
  reassignReportsTo: AgentRef.optional().meta({ description: "Required when the agent has direct reports: their new manager" }),
});

export const MessageKind = z.enum(["direct", "delegate", "escalate", "broadcast"]);
/**
 * Kinds a stored message may have: the ones people send, and `report`, which only the work queue sends
 * (a subordinate's result of a delegated task, back to its delegator; core/agents/work.ts).
 */
export const StoredMessageKind = z.enum(["direct", "delegate", "escalate", "broadcast", "report"]);

/**
 * A message's status. Plain messages: queued -> delivered -> read -> done (set by people). Messages that
 * ask for work (docs/agents-work.md) are tasks: queued -> working -> done | failed | needs_human.
 */
export const MessageStatus = z.enum(["queued", "delivered", "read", "done", "working", "failed", "needs_human"]);

/** What a message carries for the work queue (core/agents/work.ts), set by the runtime and the worker only. */
export interface MessageMeta {
  /** The task the sender was working when it sent this (a delegation's report resumes that task). */
  parentTaskId?: string;
  /** Delegation depth: 1 for a task delegated by an agent working on a person's request, ... */
  depth?: number;
  /** Messages in the chain before this one: bounds ping-pong between agents. */
  hops?: number;
  /** For a report: the delegated message it answers, and how that task ended. */
  inReplyTo?: string;
  reportStatus?: "done" | "failed" | "needs_human";
}

export const SendMessageBody = z
  .strictObject({
    kind: MessageKind,
    to: AgentRef.optional().meta({ description: "Recipient (direct, delegate; escalate: optional, must be the manager)" }),
    subject: z.string().max(200).optional(),
    body: z.string().trim().min(1, "must not be empty").max(20_000),
  })
  .meta({ id: "SendMessage" });

export const Message = z
  .object({
    id: z.string(),
    kind: StoredMessageKind,
    from: z.string(),
    to: z.string(),
    subject: z.string().optional(),
    body: z.string(),
    status: MessageStatus,
    reason: z.string().optional().meta({ description: "Why a task ended failed or needs_human" }),
    inReplyTo: z.string().optional().meta({ description: "A report: the delegated message it answers" }),
    reportStatus: z.enum(["done", "failed", "needs_human"]).optional().meta({ description: "A report: how the delegated task ended" }),
    parentTaskId: z.string().optional().meta({ description: "The task its sender was working when it sent it" }),
    depth: z.number().int().optional(),
    hops: z.number().int().optional(),
    path: z.array(z.string()).meta({ description: "Agents the message passed through, sender first, recipient last" }),
    createdAt: z.string(),
    updatedAt: z.string(),
    sentBy: z.string().meta({ description: "Who made the agent send it: a key, or the agent itself in a tool call" }),
  })
  .meta({ id: "AgentMessage" });

export const UpdateMessageBody = z.strictObject({ status: z.enum(["delivered", "read", "done"]) }).meta({ id: "UpdateMessage" });

export type AgentRecord = z.infer<typeof Agent>;
export type CreateAgentInput = z.infer<typeof CreateAgentBody>;
export type UpdateAgentInput = z.infer<typeof UpdateAgentBody>;
export type MessageRecord = z.infer<typeof Message>;
export type SendMessageInput = z.infer<typeof SendMessageBody>;
export type CreateRoleInput = z.infer<typeof CreateRoleBody>;
export type UpdateRoleInput = z.infer<typeof UpdateRoleBody>;

/** One chat turn of a conversation, as kept server-side (an agent run of a person's chat). */
export const ConversationEntry = z
  .object({
    runId: z.string(),
    agentId: z.string().meta({ description: "The agent that answered (the root agent on the organization channel)" }),
    message: z.string().meta({ description: "What the person said" }),
    reply: z.string(),
    askedBy: z.string().optional().meta({ description: "The key that asked (`key:<id>`)" }),
    model: z.string().optional(),
    tier: z.enum(["slm", "llm"]).optional(),
    offline: z.boolean().optional().meta({ description: "Answered by the offline responder, not a model" }),
    steps: z.number().int(),
    at: z.string().meta({ description: "When the turn started" }),
    finishedAt: z.string(),
  })
  .meta({ id: "ConversationEntry" });
export type ConversationEntry = z.infer<typeof ConversationEntry>;

export const ConversationQuery = z.object({
  agentId: idSchema("must be an agent id").optional().meta({ description: "The agent's own conversation; omit for the organization channel" }),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});
