/**
 * A minimal instance of a JSON Schema: what the offline responder answers for a forced tool call's
 * arguments or a `json_schema` response format, so clients that parse the answer (OpenAI's `.parse()`,
 * LangChain's structured output) get something their schema accepts instead of text that breaks them.
 *
 * Supported: `type` (one or a list), `enum`, `const`, `default`, `properties`/`required`
 * (required ones only), `items`/`prefixItems`/`minItems`, numeric bounds and `multipleOf`, string
 * lengths, common `format`s, `anyOf`/`oneOf` (the first branch that works), `allOf` of objects,
 * local `$ref`s (`#/$defs/...`, `#/definitions/...`). Free strings carry `label` (the responder's
 * mark) when their bounds allow it. Anything else (a `pattern` the label does not match, `not`,
 * recursion deeper than MAX_DEPTH, contradictory bounds) is unsatisfiable: `SchemaUnsatisfiable`.
 */

/** Nesting bound: deeper (recursive `$ref`s that require themselves) is refused, not looped on. */
export const MAX_DEPTH = 12;

/** The schema asks for something this generator cannot produce; `path` says where. */
export class SchemaUnsatisfiable extends Error {
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path || "(root)"}: ${reason}`);
    this.name = "SchemaUnsatisfiable";
  }
}

type Schema = Record<string, unknown>;

const FORMATS: Record<string, string> = {
  "date-time": "1970-01-01T00:00:00Z",
  date: "1970-01-01",
  time: "00:00:00Z",
  email: "offline@example.com",
  uri: "https://example.com/",
  url: "https://example.com/",
  uuid: "00000000-0000-4000-8000-000000000000",
  hostname: "example.com",
  ipv4: "127.0.0.1",
  ipv6: "::1",
  duration: "PT0S",
};

/** A minimal instance of `schema`; throws SchemaUnsatisfiable. */
export function schemaInstance(schema: unknown, label: string): unknown {
  const root = isSchema(schema) ? schema : {};
  return instance(root, { root, label }, "", 0);
}

interface Context {
  root: Schema;
  label: string;
}

const isSchema = (value: unknown): value is Schema => typeof value === "object" && value !== null && !Array.isArray(value);

function resolveRef(ref: string, ctx: Context, path: string): Schema {
  const match = /^#\/(\$defs|definitions)\/(.+)$/.exec(ref);
  const defs = match ? ctx.root[match[1]!] : undefined;
  const target = match && isSchema(defs) ? defs[decodeURIComponent(match[2]!).replace(/~1/g, "/").replace(/~0/g, "~")] : ref === "#" ? ctx.root : undefined;
  if (!isSchema(target)) throw new SchemaUnsatisfiable(path, `unsupported or missing $ref ${ref}`);
  return target;
}

function instance(schema: Schema | boolean, ctx: Context, path: string, depth: number): unknown {
  if (schema === true) return {};
  if (schema === false) throw new SchemaUnsatisfiable(path, "the schema is false");
  if (depth > MAX_DEPTH) throw new SchemaUnsatisfiable(path, `nested deeper than ${MAX_DEPTH} levels`);
  if (typeof schema.$ref === "string") {
    const { $ref, ...rest } = schema;
    return instance({ ...resolveRef($ref as string, ctx, path), ...rest }, ctx, path, depth + 1);
  }
  if ("const" in schema) return schema.const;
  if (Array.isArray(schema.enum)) {
    if (schema.enum.length === 0) throw new SchemaUnsatisfiable(path, "an empty enum");
    return schema.enum[0];
  }
  if ("not" in schema) throw new SchemaUnsatisfiable(path, "`not` is not supported");
  for (const key of ["anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (!Array.isArray(branches)) continue;
    const { [key]: _, ...rest } = schema;
    let last: unknown;
    for (const branch of branches) {
      try {
        return instance(isSchema(branch) ? { ...rest, ...branch } : branch, ctx, path, depth + 1);
      } catch (error) {
        last = error;
      }
    }
    throw last instanceof SchemaUnsatisfiable ? last : new SchemaUnsatisfiable(path, `no ${key} branch can be satisfied`);
  }
  if (Array.isArray(schema.allOf)) {
    const { allOf, ...rest } = schema;
    return instance(mergeAll([rest, ...(allOf as unknown[]).map((s) => (isSchema(s) ? s : {}))]), ctx, path, depth + 1);
  }
  if ("default" in schema && schema.default !== undefined) return schema.default;

  const types = Array.isArray(schema.type) ? (schema.type as string[]) : typeof schema.type === "string" ? [schema.type] : [inferType(schema)];
  // `null` only when nothing else is allowed: a value says more than a null.
  const type = types.find((t) => t !== "null") ?? "null";
  switch (type) {
    case "null":
      return null;
    case "boolean":
      return false;
    case "integer":
    case "number":
      return numberOf(schema, type === "integer", path);
    case "string":
      return stringOf(schema, ctx.label, path);
    case "array":
      return arrayOf(schema, ctx, path, depth);
    case "object":
      return objectOf(schema, ctx, path, depth);
    default:
      throw new SchemaUnsatisfiable(path, `unknown type ${String(type)}`);
  }
}

function inferType(schema: Schema): string {
  if (schema.properties || schema.required || schema.additionalProperties !== undefined) return "object";
  if (schema.items || schema.prefixItems) return "array";
  if (schema.minLength !== undefined || schema.maxLength !== undefined || schema.pattern || schema.format) return "string";
  if (schema.minimum !== undefined || schema.maximum !== undefined) return "number";
  return "object";
}

function mergeAll(schemas: Schema[]): Schema {
  const merged: Schema = {};
  for (const s of schemas) {
    for (const [key, value] of Object.entries(s)) {
      if (key === "properties" && isSchema(value)) merged.properties = { ...(merged.properties as Schema | undefined), ...value };
      else if (key === "required" && Array.isArray(value)) merged.required = [...((merged.required as string[] | undefined) ?? []), ...value];
      else merged[key] = value;
    }
  }
  return merged;
}

function numberOf(schema: Schema, integer: boolean, path: string): number {
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const step = num(schema.multipleOf) ?? (integer ? 1 : undefined);
  let low = num(schema.minimum);
  const exclusiveLow = num(schema.exclusiveMinimum);
  if (exclusiveLow !== undefined && (low === undefined || exclusiveLow >= low)) low = exclusiveLow + (step ?? 1e-6);
  let high = num(schema.maximum);
  const exclusiveHigh = num(schema.exclusiveMaximum);
  if (exclusiveHigh !== undefined && (high === undefined || exclusiveHigh <= high)) high = exclusiveHigh - (step ?? 1e-6);
  let value = low !== undefined && low > 0 ? low : high !== undefined && high < 0 ? high : 0;
  if (step !== undefined) value = Math.ceil(value / step) * step;
  if ((low !== undefined && value < low) || (high !== undefined && value > high)) throw new SchemaUnsatisfiable(path, "no number within its bounds");
  return value;
}

function stringOf(schema: Schema, label: string, path: string): string {
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  const max = typeof schema.maxLength === "number" ? schema.maxLength : Infinity;
  const format = typeof schema.format === "string" ? FORMATS[schema.format] : undefined;
  const candidates = format ? [format] : [label, label.slice(0, max), ""];
  let pattern: RegExp | undefined;
  if (typeof schema.pattern === "string") {
    try {
      pattern = new RegExp(schema.pattern, "u");
    } catch {
      throw new SchemaUnsatisfiable(path, "a pattern that is not a valid regular expression");
    }
  }
  for (const candidate of candidates) {
    const padded = candidate.length < min ? candidate + "x".repeat(min - candidate.length) : candidate;
    if ([...padded].length <= max && (!pattern || pattern.test(padded))) return padded;
  }
  throw new SchemaUnsatisfiable(path, pattern ? `cannot produce a string matching ${schema.pattern}` : "no string within its length bounds");
}

function arrayOf(schema: Schema, ctx: Context, path: string, depth: number): unknown[] {
  const prefix = Array.isArray(schema.prefixItems) ? (schema.prefixItems as unknown[]) : [];
  const min = typeof schema.minItems === "number" ? schema.minItems : 0;
  const max = typeof schema.maxItems === "number" ? schema.maxItems : Infinity;
  if (min > max) throw new SchemaUnsatisfiable(path, "minItems is above maxItems");
  if (min > 100) throw new SchemaUnsatisfiable(path, "more than 100 items required");
  const items: unknown[] = [];
  for (let i = 0; i < min; i++) {
    const itemSchema = i < prefix.length ? prefix[i] : schema.items ?? {};
    items.push(instance(isSchema(itemSchema) || typeof itemSchema === "boolean" ? itemSchema : {}, ctx, `${path}[${i}]`, depth + 1));
  }
  if (schema.uniqueItems === true && new Set(items.map((v) => JSON.stringify(v))).size < items.length) {
    throw new SchemaUnsatisfiable(path, "cannot produce distinct items");
  }
  return items;
}

function objectOf(schema: Schema, ctx: Context, path: string, depth: number): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? (schema.required as unknown[]).filter((r): r is string => typeof r === "string") : [];
  const out: Record<string, unknown> = {};
  for (const name of required) {
    const property = properties[name];
    if (property === undefined && schema.additionalProperties === false) throw new SchemaUnsatisfiable(`${path}.${name}`, "required but not allowed");
    const propertySchema = property ?? (isSchema(schema.additionalProperties) ? schema.additionalProperties : {});
    out[name] = instance(isSchema(propertySchema) || typeof propertySchema === "boolean" ? propertySchema : {}, ctx, path ? `${path}.${name}` : name, depth + 1);
  }
  if (typeof schema.minProperties === "number" && Object.keys(out).length < schema.minProperties) {
    throw new SchemaUnsatisfiable(path, "more properties required than the schema names as required");
  }
  return out;
}
