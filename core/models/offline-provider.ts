import { type DomainError, invalidInput } from "../errors";
import { newId } from "../ids";
import { estimateTokens } from "./cost";
import type { ChatProvider, ProviderRequest, ProviderResult, StreamEvent, ToolCall } from "./provider";
import { SchemaUnsatisfiable, schemaInstance } from "./schema-instance";

/** Marks every offline answer, so nobody mistakes it for a model's. */
export const OFFLINE_PREFIX = "[offline responder]";

function lastUserText(request: ProviderRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i]!;
    if (message.role !== "user") continue;
    if (typeof message.content === "string") return message.content;
    if (Array.isArray(message.content)) {
      return message.content.map((p) => (p && typeof p === "object" && "text" in p ? String((p as { text: unknown }).text) : "")).join(" ");
    }
  }
  return "";
}

/** The text answer: says it is not a model's, what the router did, and how to get real answers. */
function notice(request: ProviderRequest): string {
  const question = lastUserText(request).replace(/\s+/g, " ").trim();
  const quoted = question.length > 120 ? `${question.slice(0, 117)}...` : question;
  return (
    `${OFFLINE_PREFIX} No ${request.model.tier.toUpperCase()} endpoint is configured, so this is not a model's answer. ` +
    `The router sent your message ("${quoted}") to ${request.model.name} (${request.model.tier}). ` +
    `Set AGENTORG_${request.model.tier.toUpperCase()}_BASE_URL to an OpenAI-compatible endpoint to get real answers.`
  );
}

interface ToolWire {
  type?: string;
  function?: { name?: string; parameters?: unknown };
}

/**
 * The tool the request forces: `tool_choice: {type: "function", function: {name}}` names it,
 * `"required"` means any (the first). `"auto"` (or none) and `"none"` force nothing: a model may
 * always answer in text, and answering a tool call to every offered tool would never end a tool loop.
 */
function forcedTool(request: ProviderRequest): ToolWire | undefined {
  const tools = Array.isArray(request.params.tools) ? (request.params.tools as ToolWire[]) : [];
  const choice = request.params.tool_choice as unknown;
  if (choice === "required") return tools[0];
  if (choice && typeof choice === "object") {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    const tool = tools.find((t) => t.function?.name === name);
    if (!tool) throw offlineRefusal(`tool_choice names the function '${String(name)}', which is not in tools.`, "tool_choice");
    return tool;
  }
  return undefined;
}

/** A request the offline responder cannot answer in the shape it asks for: 400, never text that breaks the client. */
function offlineRefusal(message: string, param: string): DomainError {
  return invalidInput(`The offline responder cannot answer this request: ${message}`, [{ field: param, message }], "offline_unsatisfiable");
}

function instanceOf(schema: unknown, param: string): unknown {
  try {
    return schemaInstance(schema, OFFLINE_PREFIX);
  } catch (error) {
    if (error instanceof SchemaUnsatisfiable) throw offlineRefusal(`its JSON schema cannot be satisfied (${error.message}).`, param);
    throw error;
  }
}

/**
 * The offline answer in the shape the request asks for: a call to the forced tool with arguments that
 * satisfy its parameters' schema; with `response_format` `json_schema` a minimal instance of the
 * schema, with `json_object` a JSON object holding the notice; else the notice as text (cut to
 * `maxTokens` words). Free strings in generated JSON are the offline mark.
 */
function answer(request: ProviderRequest): ProviderResult {
  const inputTokens = estimateTokens(JSON.stringify(request.messages));
  const tool = forcedTool(request);
  if (tool) {
    const name = tool.function?.name ?? "";
    const args = JSON.stringify(instanceOf(tool.function?.parameters ?? { type: "object" }, "tools"));
    const toolCalls: ToolCall[] = [{ id: `call_offline_${newId()}`, type: "function", function: { name, arguments: args } }];
    return { content: null, toolCalls, finishReason: "tool_calls", usage: { inputTokens, outputTokens: estimateTokens(name + args) }, estimated: true };
  }
  const format = request.params.response_format as { type?: string; json_schema?: { schema?: unknown } } | undefined;
  if (format?.type === "json_schema" || format?.type === "json_object") {
    const value = format.type === "json_schema" ? instanceOf(format.json_schema?.schema ?? {}, "response_format") : { offline: true, message: notice(request) };
    const content = JSON.stringify(value);
    return { content, toolCalls: [], finishReason: "stop", usage: { inputTokens, outputTokens: estimateTokens(content) }, estimated: true };
  }
  const content = notice(request);
  const words = content.split(" ");
  const limited = words.slice(0, Math.max(1, request.maxTokens)).join(" ");
  return {
    content: limited,
    toolCalls: [],
    finishReason: limited.length < content.length ? "length" : "stop",
    usage: { inputTokens, outputTokens: estimateTokens(limited) },
    estimated: true,
  };
}

/**
 * The offline responder: answers when a tier has no endpoint, so the platform works end to end on a
 * fresh machine. Deterministic (but for tool call ids), instant, labelled in its text; its usage is an estimate (4 characters a
 * token) and is recorded as such. It honours the request's shape (a forced tool call, a JSON response
 * format) or refuses it with 400 `offline_unsatisfiable`: never text a client that parses cannot read.
 */
export function createOfflineProvider(): ChatProvider {
  return {
    offline: true,
    async complete(request) {
      return answer(request);
    },
    async *stream(request): AsyncIterable<StreamEvent> {
      const result = answer(request);
      if (result.toolCalls.length) {
        // OpenAI's order: the call's id and name first, then its arguments.
        for (const [index, call] of result.toolCalls.entries()) {
          yield { type: "delta", toolCalls: [{ index, id: call.id, name: call.function.name, arguments: "" }] };
          yield { type: "delta", toolCalls: [{ index, arguments: call.function.arguments }] };
        }
        yield { type: "done", result };
        return;
      }
      const words = (result.content ?? "").split(/(?<= )/);
      for (let i = 0; i < words.length; i += 4) yield { type: "delta", content: words.slice(i, i + 4).join("") };
      yield { type: "done", result };
    },
  };
}
