import { DomainError, isDomainError } from "../errors";
import { newId } from "../ids";
import type { Principal } from "../auth/principal";
import type { ChatService } from "../chat/chat-service";
import type { ChatCompletionRequest } from "../chat/chat.schema";
import type { ProviderResult, WireMessage } from "../models/provider";
import type { UsageRecord } from "../metering/ports";
import type { Organization } from "../tenants/organization.schema";
import type { AgentRecord } from "./agent.schema";
import type { AgentService } from "./agent-service";
import { ancestors, type Tree } from "./hierarchy";
import type { AgentRun, AgentStep, AgentStore, ConversationTurn, Memory } from "./ports";
import { untilWritten } from "../shared/retry";
import type { AgentTool, ToolContext } from "./tools";
import type { ApprovalRecord } from "../approvals/ports";
import type { Role } from "./roles";

export interface RuntimeOptions {
  /** Model calls per agent turn, tool calls included: the loop always ends. */
  maxSteps: number;
  /** Conversation turns kept verbatim; older ones are folded into the summary. */
  memoryTurns: number;
  /** Delegation depth (an agent delegating to one that delegates ...). The hierarchy has 5 levels. */
  maxDepth: number;
}

export const DEFAULT_RUNTIME_OPTIONS: RuntimeOptions = { maxSteps: 6, memoryTurns: 12, maxDepth: 5 };

export interface ChatTurnResult {
  runId: string;
  agentId: string;
  reply: string;
  model: string;
  tier: "slm" | "llm";
  offline: boolean;
  usage: { inputTokens: number; outputTokens: number; costUsd: number };
  steps: AgentStep[];
}

/** The task a turn works (core/agents/work.ts), which the messages it sends carry onward. */
export interface TaskContext {
  id: string;
  depth: number;
  hops: number;
}

/** Options of a task's turn: its task and its own bounds. */
export interface WorkTurnOptions {
  task: TaskContext;
  maxSteps?: number;
  /** Model cost of the turn at most (micro-dollars): the loop stops once it is reached. */
  maxCostMicroUsd?: number;
  deadline?: number;
  org?: Organization;
}

export interface RuntimeDeps {
  chat: ChatService;
  agents: AgentService;
  store: AgentStore;
  /** Tools beyond the hierarchy's (the ITSM tools), built for one agent's context. */
  extraTools?: (context: ToolContext) => AgentTool[];
  /**
   * People in the loop (core/approvals): asked right before a tool runs; a call it holds does not run,
   * and the model gets `{ status: "pending_approval", approvalId }` as the tool's result.
   */
  gate?: (context: ToolContext, call: { name: string; args: unknown; role: Role }) => Promise<{ pending: ApprovalRecord } | undefined>;
  options?: Partial<RuntimeOptions>;
}

const SUMMARY_LIMIT = 2_000;
const clip = (text: string, n: number) => (text.length > n ? `${text.slice(0, n - 1)}…` : text);

/** Attempts to add a turn to an agent's memory while other turns with it keep writing first. */
const MEMORY_ATTEMPTS = 8;

/** Whether a remembered turn may be shown to a model: not an offline answer posing as its own. */
export const spokenByModel = (turn: ConversationTurn): boolean => !(turn.role === "assistant" && turn.offline);

/**
 * Folds the oldest turns into the rolling summary, keeping the last `keep` verbatim. Extractive (the
 * start of each folded turn) so that it costs no model call and cannot invent anything; bounded.
 * Offline answers are dropped from the summary (a model reads it).
 */
export function foldMemory(memory: Memory, keep: number): Memory {
  if (memory.turns.length <= keep) return memory;
  const folded = memory.turns.slice(0, memory.turns.length - keep).filter(spokenByModel);
  const lines = folded.map((t) => `- ${t.role}: ${clip(t.content.replace(/\s+/g, " "), 160)}`);
  let summary = [memory.summary, ...lines].filter(Boolean).join("\n");
  while (summary.length > SUMMARY_LIMIT && summary.includes("\n")) summary = summary.slice(summary.indexOf("\n") + 1);
  return { summary: clip(summary, SUMMARY_LIMIT), turns: memory.turns.slice(-keep) };
}

/**
 * The agent runtime: a chat turn with an agent builds the prompt from its role's system prompt, its
 * place in the hierarchy, its memory and its tools, lets the router pick the model, and runs the
 * function-calling loop (bounded) until the model answers. A delegation is a task of its own on the
 * work queue (core/agents/work.ts): the tool returns at once, and the subordinate's report comes back
 * to the delegator's inbox later (resuming the delegator's task when it delegated while working one).
 */
export function createAgentRuntime({ chat, agents, store, extraTools, gate, options }: RuntimeDeps) {
  const settings = { ...DEFAULT_RUNTIME_OPTIONS, ...options };

  /**
   * Adds a turn to the agent's memory. Memory is read at the start of a turn and written at its end,
   * seconds later; a concurrent turn with the same agent may have written in between. The write is
   * conditional on the version read, and on a conflict the turn is added to the newer memory instead,
   * so no turn is lost (bounded attempts).
   */
  async function remember(orgId: string, agentId: string, read: Memory & { version: number }, turns: Memory["turns"]): Promise<void> {
    await untilWritten(
      async (n) => {
        const base = n === 1 ? read : await store.getMemory(orgId, agentId);
        const next = foldMemory({ summary: base.summary, turns: [...base.turns, ...turns] }, settings.memoryTurns);
        return (await store.putMemory(orgId, agentId, next, base.version)) === "ok" ? true : undefined;
      },
      { attempts: MEMORY_ATTEMPTS, gaveUp: "The agent's memory kept changing; the turn was answered but not remembered." },
    );
  }

  function describe(tree: Tree, agent: AgentRecord, roleName: string): string {
    const manager = agent.managerId ? tree.byId.get(agent.managerId) : undefined;
    const reports = tree.children.get(agent.id) ?? [];
    const peers = manager ? (tree.children.get(manager.id) ?? []).filter((p) => p.id !== agent.id) : [];
    const who = (a: AgentRecord) => `${a.name} (id ${a.id}, level ${a.level})`;
    return [
      `You are ${agent.name}, ${roleName} (level ${agent.level}).`,
      manager ? `Your manager: ${who(manager)}.` : "You are the root of the organization: you have no manager.",
      reports.length ? `Your direct reports: ${reports.map(who).join("; ")}.` : "You have no direct reports.",
      peers.length ? `Your peers: ${peers.map(who).join("; ")}.` : "",
      `Chain of command above you: ${ancestors(tree, agent.id).map((a) => a.name).join(" > ") || "none"}.`,
      "Use agent ids in tool calls. Answer the person directly when you need no tool.",
    ]
      .filter(Boolean)
      .join("\n");
  }

  function hierarchyTools(context: ToolContext, depth: number, task: TaskContext | undefined): AgentTool[] {
    const acting = { orgId: context.orgId, actor: context.actor };
    // What a message sent during a task carries: the chain's length grows with every message.
    const onward = { hops: (task?.hops ?? 0) + 1 };
    const str = (args: unknown, name: string): string => {
      const value = (args as Record<string, unknown> | null)?.[name];
      if (typeof value !== "string" || !value.trim()) throw new DomainError("invalid_input", "tool_arguments_invalid", `Argument '${name}' must be a non-empty string.`);
      return value;
    };
    return [
      {
        name: "delegate_task",
        description:
          "Delegate a task to an agent in your own subtree (a direct report or below). It is queued and worked by that agent on its own; its report comes back to your inbox (and, while you work a task, resumes it).",
        parameters: { type: "object", properties: { to: { type: "string", description: "agent id" }, task: { type: "string" } }, required: ["to", "task"] },
        async execute(args) {
          const to = str(args, "to");
          const body = str(args, "task");
          if (depth + 1 >= settings.maxDepth) throw new DomainError("conflict", "delegation_too_deep", `Delegations nest at most ${settings.maxDepth} deep: do this task yourself.`);
          // Asynchronous: the delegation is a task of its own (core/agents/work.ts); no turn waits for it.
          const [message] = await agents.send(acting, context.agentId, { kind: "delegate", to, body }, { ...onward, depth: depth + 1, ...(task ? { parentTaskId: task.id } : {}) });
          return { messageId: message!.id, status: "queued", to };
        },
      },
      {
        name: "escalate",
        description: "Escalate an issue to your manager (it lands in their inbox).",
        parameters: { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] },
        async execute(args) {
          const [message] = await agents.send(acting, context.agentId, { kind: "escalate", body: str(args, "summary") }, onward);
          return { messageId: message!.id, to: message!.to };
        },
      },
      {
        name: "send_message",
        description: "Send a direct message to any agent; it travels through the hierarchy.",
        parameters: { type: "object", properties: { to: { type: "string", description: "agent id" }, body: { type: "string" } }, required: ["to", "body"] },
        async execute(args) {
          const [message] = await agents.send(acting, context.agentId, { kind: "direct", to: str(args, "to"), body: str(args, "body") }, onward);
          return { messageId: message!.id, path: message!.path };
        },
      },
      {
        name: "broadcast",
        description: "Broadcast a message to your whole subtree.",
        parameters: { type: "object", properties: { body: { type: "string" } }, required: ["body"] },
        async execute(args) {
          const messages = await agents.send(acting, context.agentId, { kind: "broadcast", body: str(args, "body") }, onward);
          return { recipients: messages.length };
        },
      },
    ];
  }

  async function turn(
    principal: Principal,
    agentId: string,
    input: string,
    depth: number,
    onDelta?: (text: string) => void,
    { deadline, org, task, maxSteps = settings.maxSteps, maxCostMicroUsd, conversation }: { deadline?: number; org?: Organization; task?: TaskContext; maxSteps?: number; maxCostMicroUsd?: number; conversation?: "agent" | "channel" } = {},
  ): Promise<ChatTurnResult & { stopped?: "steps" | "cost" }> {
    const orgId = principal.kind === "org" ? principal.orgId : "";
    // The tree and the agent's memory together: two reads, one round trip.
    const [tree, memory] = await Promise.all([agents.tree(orgId), store.getMemory(orgId, agentId)]);
    const agent = tree.byId.get(agentId);
    if (!agent) throw new DomainError("not_found", "not_found", `Agent '${agentId}' was not found.`);
    if (agent.status !== "active") throw new DomainError("conflict", "agent_paused", `${agent.name} is paused.`);
    const role = await agents.roleOf(orgId, agent.roleId);
    const context: ToolContext = { orgId, agentId, actor: `agent:${agentId}`, actorName: agent.name };
    const available = [...hierarchyTools(context, depth, task), ...(extraTools?.(context) ?? [])].filter((t) => role.tools.includes(t.name));
    const tools = new Map(available.map((t) => [t.name, t]));
    const system = [role.systemPrompt, describe(tree, agent, role.name), memory.summary ? `Summary of your earlier conversation:\n${memory.summary}` : ""].filter(Boolean).join("\n\n");
    const messages: WireMessage[] = [
      { role: "system", content: system },
      ...memory.turns.filter(spokenByModel).map((t) => ({ role: t.role, content: t.content })),
      { role: "user", content: input },
    ];
    const fixedTier = agent.routing === "off" ? (role.modelPolicy.tier ?? "slm") : role.modelPolicy.routing === "fixed" ? role.modelPolicy.tier : undefined;
    const steps: AgentStep[] = [];
    const startedAt = new Date().toISOString();
    let reply = "";
    let last: { model: string; tier: "slm" | "llm"; offline: boolean } = { model: "", tier: "slm", offline: false };
    let stopped: "steps" | "cost" | undefined;
    let spent = 0;

    for (let n = 1; n <= maxSteps; n++) {
      const request = {
        model: "auto",
        messages,
        ...(available.length ? { tools: available.map((t) => ({ type: "function" as const, function: { name: t.name, description: t.description, parameters: t.parameters } })) } : {}),
      } as ChatCompletionRequest;
      // One deadline for the whole turn: each step's plan refuses (504) once no attempt fits any more.
      const plan = await chat.plan(principal, request, {
        agentId,
        ...(fixedTier ? { routingOff: { tier: fixedTier } } : {}),
        ...(deadline !== undefined ? { deadline } : {}),
        ...(org ? { org } : {}),
      });
      let content = "";
      let outcome: UsageRecord | undefined;
      let result: ProviderResult | undefined;
      for await (const event of chat.stream(plan)) {
        if (event.type === "delta" && event.content) {
          content += event.content;
          onDelta?.(event.content);
        } else if (event.type === "record") outcome = event.record;
        else if (event.type === "done") {
          result = event.result;
          content = event.result.content ?? content;
        }
      }
      if (!outcome || !result) throw new DomainError("upstream_failed", "model_failed", "The model's answer ended early.");
      const record = outcome;
      last = { model: record.model, tier: record.tier, offline: record.offline };
      const step: AgentStep = { n, model: record.model, tier: record.tier, content, toolCalls: [], inputTokens: record.inputTokens, outputTokens: record.outputTokens, costMicroUsd: record.costMicroUsd };
      steps.push(step);
      spent += record.costMicroUsd;
      if (!result.toolCalls.length) {
        reply = content;
        break;
      }
      if (maxCostMicroUsd !== undefined && spent >= maxCostMicroUsd) {
        // A task's cost bound: its tool calls are not made, and a person decides what next.
        reply = content || "(stopped at the task's cost limit)";
        stopped = "cost";
        break;
      }
      messages.push({ role: "assistant", content: content || null, tool_calls: result.toolCalls });
      for (const call of result.toolCalls) {
        const tool = tools.get(call.function.name);
        let output: unknown;
        let ok = true;
        try {
          if (!tool) throw new DomainError("forbidden", "tool_not_allowed", `Tool '${call.function.name}' is not available to the ${role.name} role.`);
          let args: unknown;
          try {
            args = JSON.parse(call.function.arguments || "{}");
          } catch {
            throw new DomainError("invalid_input", "tool_arguments_invalid", "The tool arguments are not valid JSON.");
          }
          const held = await gate?.(context, { name: tool.name, args, role });
          output = held ? { status: "pending_approval", approvalId: held.pending.id, summary: held.pending.summary } : await tool.execute(args, context);
        } catch (error) {
          ok = false;
          if (!isDomainError(error)) throw error;
          // The model sees the refusal and can correct itself; the hierarchy's rules hold either way.
          output = { error: { code: error.code, message: error.message } };
        }
        const text = JSON.stringify(output);
        step.toolCalls.push({ name: call.function.name, arguments: call.function.arguments, ok, result: clip(text, 2_000) });
        messages.push({ role: "tool", tool_call_id: call.id, content: text });
      }
      if (n === maxSteps) {
        reply = content || `(stopped after ${maxSteps} steps without a final answer)`;
        stopped = "steps";
      }
    }

    const now = new Date().toISOString();
    const run: AgentRun = {
      id: newId(),
      agentId,
      input,
      reply,
      steps,
      startedAt,
      finishedAt: now,
      depth,
      ...(last.model ? { model: last.model, tier: last.tier, offline: last.offline } : {}),
      // A person's chat turn is kept as a transcript (GET /conversations); a task's run is not one.
      ...(conversation && !task ? { conversation, ...(principal.kind === "org" ? { askedBy: `key:${principal.keyId}` } : {}) } : {}),
    };
    // Independent writes, one round trip.
    await Promise.all([
      remember(orgId, agentId, memory, [{ role: "user", content: input, at: startedAt }, { role: "assistant", content: reply, at: now, ...(last.offline ? { offline: true } : {}) }]),
      store.recordRun(orgId, run),
    ]);
    const totals = steps.reduce((s, x) => ({ i: s.i + x.inputTokens, o: s.o + x.outputTokens, c: s.c + x.costMicroUsd }), { i: 0, o: 0, c: 0 });
    return { runId: run.id, agentId, reply, model: last.model, tier: last.tier, offline: last.offline, usage: { inputTokens: totals.i, outputTokens: totals.o, costUsd: totals.c / 1_000_000 }, steps, ...(stopped ? { stopped } : {}) };
  }

  return {
    /**
     * A person's chat turn with an agent; `onDelta` receives the reply's text as it streams. `deadline`
     * (epoch ms, the invocation's end) is shared by every model call of the turn, delegations included;
     * `org` is the organization as the caller's credential check read it (no second read).
     */
    chat(
      principal: Principal,
      agentId: string,
      message: string,
      onDelta?: (text: string) => void,
      options: { deadline?: number; org?: Organization; conversation?: "agent" | "channel" } = {},
    ): Promise<ChatTurnResult> {
      return turn(principal, agentId, message, 0, onDelta, options);
    },
    /**
     * A task's turn (the work queue, core/agents/work.ts): the agent works `input` at the task's depth,
     * with the task's step and cost bounds; `stopped` says which bound ended it without an answer.
     */
    work(principal: Principal, agentId: string, input: string, { task, maxSteps, maxCostMicroUsd, deadline, org }: WorkTurnOptions) {
      return turn(principal, agentId, input, task.depth, undefined, { task, ...(maxSteps !== undefined ? { maxSteps } : {}), ...(maxCostMicroUsd !== undefined ? { maxCostMicroUsd } : {}), ...(deadline !== undefined ? { deadline } : {}), ...(org ? { org } : {}) });
    },
    options: settings,
  };
}

export type AgentRuntime = ReturnType<typeof createAgentRuntime>;
