/**
 * What text the platform accepts. Every string that comes in (JSON bodies and their keys, query and
 * path parameters, WebSocket frames) must be well-formed Unicode without NUL:
 *
 * - a lone surrogate (`"\ud800"` in JSON) is not text: DynamoDB stores UTF-8, the SDK turns it into
 *   U+FFFD on the way, and the audit log (canonical JSON of what was stored) would then disagree with
 *   what the caller was told. Refused rather than silently changed.
 * - U+0000 (NUL) has no use in names, tickets or messages, and truncates text in C-based tools that
 *   read exports and logs downstream. Refused too.
 *
 * Invalid UTF-8 *bytes* never reach this check: they are decoded to U+FFFD when the body is read, the
 * same way everywhere (stored, answered and audited alike).
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NUL = /\u0000/;

/** Why a string is refused, or null if it is acceptable text. */
export function textProblem(value: string): string | null {
  if (LONE_SURROGATE.test(value)) return "contains an unpaired UTF-16 surrogate (not valid Unicode text)";
  if (NUL.test(value)) return "contains a NUL character (U+0000)";
  return null;
}

/**
 * The first string in a parsed JSON value (keys included) that is not acceptable text, with its path
 * (`messages.0.content`), or null. Depth-first, bounded by the value itself (a parsed body is finite).
 */
export function findIllFormedText(value: unknown, path = ""): { field: string; message: string } | null {
  if (typeof value === "string") {
    const problem = textProblem(value);
    return problem ? { field: path || "(root)", message: problem } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findIllFormedText(value[i], path ? `${path}.${i}` : String(i));
      if (found) return found;
    }
    return null;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const keyProblem = textProblem(key);
      if (keyProblem) return { field: path || "(root)", message: `a member name ${keyProblem}` };
      const found = findIllFormedText(inner, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}
