/**
 * Shared by the local stream poller (local/stream-poller.ts) and the redrive of a consumer's failure
 * queue (functions/lib/stream-redrive.ts), which must select exactly the records the mapping would.
 *
 * Lambda event filtering (the `FilterCriteria` of an event source mapping), for the subset of the
 * pattern language our consumers use: nested objects; arrays of allowed values (strings, numbers,
 * booleans, null); and the operators `prefix`, `anything-but` (value or list), `exists` and
 * `numeric` is not supported (none of our filters uses it; an unknown operator throws so it cannot be
 * silently ignored). A record passes if ANY pattern matches, as in Lambda.
 */
export type Pattern = Record<string, unknown>;

export function matchesAny(patterns: Pattern[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((pattern) => matches(pattern, record));
}

export function matches(pattern: Pattern, value: unknown): boolean {
  for (const [field, rule] of Object.entries(pattern)) {
    const present = value !== null && typeof value === "object" && field in (value as object);
    const inner = present ? (value as Record<string, unknown>)[field] : undefined;
    if (Array.isArray(rule)) {
      if (!rule.some((r) => matchValue(r, inner, present))) return false;
    } else if (rule !== null && typeof rule === "object") {
      if (!present || !matches(rule as Pattern, inner)) return false;
    } else {
      throw new Error(`Invalid filter pattern at '${field}': rules are arrays or nested objects`);
    }
  }
  return true;
}

function matchValue(rule: unknown, value: unknown, present: boolean): boolean {
  if (rule === null || typeof rule !== "object") return present && value === rule;
  const ops = rule as Record<string, unknown>;
  if ("exists" in ops) return ops.exists === present;
  if (!present) return false;
  if ("prefix" in ops) return typeof value === "string" && value.startsWith(String(ops.prefix));
  if ("anything-but" in ops) {
    const excluded = ops["anything-but"];
    if (Array.isArray(excluded)) return !excluded.includes(value);
    if (excluded !== null && typeof excluded === "object" && "prefix" in excluded) {
      return !(typeof value === "string" && value.startsWith(String((excluded as { prefix: unknown }).prefix)));
    }
    return value !== excluded;
  }
  throw new Error(`Unsupported filter operator: ${Object.keys(ops).join(", ")}`);
}
