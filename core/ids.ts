import { randomBytes } from "node:crypto";
import { monotonicFactory } from "ulid";

const ulid = monotonicFactory();

/**
 * A new entity id: a lowercase ULID (26 chars of Crockford base32), so ids sort by creation time and
 * contain no separator characters used in keys (`#`) or API keys (`_`).
 */
export const newId = (): string => ulid().toLowerCase();

/** `n` random bytes as lowercase hex: secret material (API keys, tokens). */
export const randomHex = (n: number): string => randomBytes(n).toString("hex");

/** Ids we accept from a path: a ULID as produced by `newId`. Anything else cannot exist. */
export const ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{26}$/;
