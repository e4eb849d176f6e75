import { describe, expect, it } from "vitest";
import { z } from "zod";
import { httpRoutes, wsRoutes } from "../../../functions/routes";

/**
 * Invariant: every input the API accepts is bounded by its schema, so no request can carry a number
 * the storage layer rejects (DynamoDB's SDK refuses numbers beyond 2^53 as a 500), a string or a list
 * of unbounded size, or an object with unbounded keys. Walks the JSON Schema of every request part
 * of every route in the manifest (HTTP path, query and body; WebSocket frames).
 */
type Schema = Record<string, any>;

/**
 * OpenAI's Chat Completions request has no per-field size limits (clients send long conversations and
 * tool schemas); there, texts, lists and maps are bounded by the 256 KiB body limit alone. Its numbers
 * are bounded like every other number.
 */
const openEnded = (path: string) => path.startsWith("POST /api/v1/chat/completions body");

function violations(schema: Schema, path: string, out: string[], defs: Record<string, Schema>, seen = new Set<Schema>()): string[] {
  if (!schema || typeof schema !== "object" || seen.has(schema)) return out;
  seen.add(schema);
  if (schema.$ref) {
    const target = defs[String(schema.$ref).split("/").pop()!];
    if (target) violations(target, path, out, defs, seen);
    return out;
  }
  for (const key of ["anyOf", "oneOf", "allOf"]) for (const [i, s] of (schema[key] ?? []).entries()) violations(s, `${path}|${i}`, out, defs, seen);
  const types: string[] = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const fixed = schema.enum !== undefined || schema.const !== undefined;
  if ((types.includes("number") || types.includes("integer")) && !fixed) {
    if (schema.maximum === undefined && schema.exclusiveMaximum === undefined) out.push(`${path}: number without a maximum`);
    if (schema.minimum === undefined && schema.exclusiveMinimum === undefined) out.push(`${path}: number without a minimum`);
  }
  // An anchored pattern (ids, numbers) or a format (date-time) bounds a string as well as maxLength does.
  const shaped = typeof schema.pattern === "string" || typeof schema.format === "string";
  if (types.includes("string") && !fixed && !shaped && schema.maxLength === undefined && !openEnded(path)) out.push(`${path}: string without maxLength`);
  if (types.includes("array")) {
    if (schema.maxItems === undefined && !openEnded(path)) out.push(`${path}: array without maxItems`);
    violations(schema.items, `${path}[]`, out, defs, seen);
  }
  if (types.includes("object") || schema.properties) {
    for (const [name, s] of Object.entries<Schema>(schema.properties ?? {})) violations(s, `${path}.${name}`, out, defs, seen);
    if (schema.additionalProperties && typeof schema.additionalProperties === "object") {
      if (schema.maxProperties === undefined && !openEnded(path)) out.push(`${path}: map without maxProperties`);
      violations(schema.additionalProperties, `${path}{}`, out, defs, seen);
    }
  }
  return out;
}

function check(schema: z.ZodType | undefined, where: string): string[] {
  if (!schema) return [];
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any", target: "draft-2020-12" }) as Schema;
  return violations(json, where, [], json.$defs ?? {});
}

describe("every request input is bounded", () => {
  it.each(httpRoutes.map((r) => [`${r.method} ${r.path}`, r] as const))("%s", (name, route) => {
    const found = [...check(route.params, `${name} params`), ...check(route.query, `${name} query`), ...check(route.body, `${name} body`)];
    expect(found).toEqual([]);
  });

  it.each(wsRoutes.filter((r) => r.body).map((r) => [r.routeKey, r] as const))("WebSocket frame %s", (name, route) => {
    expect(check(route.body, `frame ${name}`)).toEqual([]);
  });
});
