import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { invalidInput } from "../errors";

/**
 * Pagination cursors that cannot be forged. A cursor is `<payload>.<tag>`: the payload is the query's
 * LastEvaluatedKey (base64url JSON); the tag an HMAC-SHA256 over the payload and the cursor's scope
 * (which list of which tenant, with which filters), under a server secret. So a client can neither
 * invent a start key (one outside the query's range makes DynamoDB fail) nor carry a cursor from one
 * list to another, and anything else is a 400 `invalid_cursor`, never a DynamoDB error.
 */
export interface CursorCodec {
  encode(key: Record<string, unknown> | undefined, scope: string): string | undefined;
  /**
   * The key a cursor holds, if this codec issued it for `scope` and its partition attributes equal
   * `expected` (a second check, should the scope ever be too wide).
   */
  decode(cursor: string | undefined, scope: string, expected: Record<string, string>): Record<string, unknown> | undefined;
}

const TAG_BYTES = 32;

export function createCursorCodec(secret: string | Buffer): CursorCodec {
  const key = Buffer.isBuffer(secret) ? secret : Buffer.from(secret, "utf8");
  if (key.length < 16) throw new Error("The cursor secret must have at least 16 bytes.");
  const tag = (payload: string, scope: string) => createHmac("sha256", key).update(`${scope}\n${payload}`).digest();
  const refuse = () => invalidInput("The cursor is not valid.", [{ field: "cursor", message: "not a cursor issued by this API for this list" }], "invalid_cursor");

  return {
    encode(startKey, scope) {
      if (!startKey) return undefined;
      const payload = Buffer.from(JSON.stringify(startKey)).toString("base64url");
      return `${payload}.${tag(payload, scope).toString("base64url")}`;
    },
    decode(cursor, scope, expected) {
      if (!cursor) return undefined;
      const [payload, presented, extra] = cursor.split(".");
      if (!payload || !presented || extra !== undefined || cursor.length > 4096) throw refuse();
      const given = Buffer.from(presented, "base64url");
      if (given.length !== TAG_BYTES || !timingSafeEqual(given, tag(payload, scope))) throw refuse();
      let value: unknown;
      try {
        value = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
      } catch {
        throw refuse();
      }
      const valid =
        value !== null &&
        typeof value === "object" &&
        !Array.isArray(value) &&
        Object.values(value).every((v) => typeof v === "string") &&
        Object.entries(expected).every(([name, v]) => (value as Record<string, unknown>)[name] === v);
      if (!valid) throw refuse();
      return value as Record<string, unknown>;
    },
  };
}

/**
 * The codec of stores built without one (tests, tools): a secret of this process. The platform's
 * functions all share the configured one (functions/lib/config.ts), so a cursor from one function
 * instance works on every other.
 */
export const processCursors: CursorCodec = createCursorCodec(randomBytes(32));
