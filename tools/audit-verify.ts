/**
 * Independent verifier of agentorg audit-log exports (format: docs/audit-log-format.md).
 *
 *   npm run --silent audit:verify -- <export.jsonl | -> [--public-key <base64 raw Ed25519 key>]...
 *
 * Exit 0: every chain in the file is valid (one summary line per organization). Exit 1: the export is
 * invalid (first bad seq and reason, or the first malformed line). Exit 2: usage or I/O error.
 *
 * Deliberately shares no code with the writer (core/audit): its own JSON parser, its own record checks,
 * its own chain walk and a different RFC 8785 implementation (json-canonicalize). A bug in one side
 * then shows up as a disagreement instead of being mirrored.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { readFileSync, realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { canonicalize } from "json-canonicalize";

export type FailureReason =
  | "malformed_line"
  | "malformed_entry"
  | "malformed_checkpoint"
  | "seq_mismatch"
  | "prev_hash_mismatch"
  | "hash_mismatch"
  | "checkpoint_beyond_head"
  | "checkpoint_hash_mismatch"
  | "checkpoint_key_mismatch"
  | "checkpoint_signature_invalid";

/** The verdict for one organization's chain. */
export interface OrgReport {
  orgId: string;
  valid: boolean;
  /** Entries of this organization in the file. */
  entries: number;
  /** Last entry that can be trusted (just before the first invalid seq). */
  head: { seq: number; hash: string } | null;
  checkpoints: number;
  /** Checkpoints whose hash matched the chain. */
  checkpointsConsistent: number;
  /** Of those, checkpoints whose signature verified (0 without a public key). */
  signaturesVerified: number;
  /** Highest seq named by a consistent checkpoint. */
  lastCheckpointSeq: number | null;
  firstInvalidSeq: number | null;
  reason: FailureReason | null;
  message: string | null;
}

export interface ExportReport {
  valid: boolean;
  /** The first line that is not a well-formed record; chains are only checked when there is none. */
  malformed: { line: number; reason: FailureReason; seq: number | null; message: string } | null;
  orgs: OrgReport[];
  signaturesChecked: boolean;
}

// --- strict JSON -----------------------------------------------------------------------------------

class JsonSyntaxError extends Error {}

const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;
/** A backslash or a control character: the string needs the careful scan. */
const NEEDS_SCAN = /[\\\u0000-\u001f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const MAX_DEPTH = 64;

/**
 * RFC 8259 JSON restricted to I-JSON (RFC 7493): rejects duplicate member names (parsers disagree on
 * which one wins, so a line could mean one thing to this verifier and another to a viewer), lone
 * surrogates and numbers beyond the double range, which JCS cannot encode.
 */
export function parseStrictJson(text: string): unknown {
  return new StrictJsonParser(text).parseDocument();
}

/** A recursive-descent parser; a class rather than closures so that parsing a line allocates little. */
class StrictJsonParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail("unexpected data after the value");
    return value;
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(`${message} at column ${this.pos + 1}`);
  }

  private skipWhitespace(): void {
    const text = this.text;
    for (;;) {
      const c = text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos += 1;
      else return;
    }
  }

  private parseValue(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail("nesting deeper than 64");
    this.skipWhitespace();
    const text = this.text;
    const c = text.charCodeAt(this.pos);
    if (c === 0x22) return this.parseString();
    if (c === 0x7b) return this.parseObject(depth);
    if (c === 0x5b) return this.parseArray(depth);
    if (c === 0x74 && text.startsWith("true", this.pos)) {
      this.pos += 4;
      return true;
    }
    if (c === 0x66 && text.startsWith("false", this.pos)) {
      this.pos += 5;
      return false;
    }
    if (c === 0x6e && text.startsWith("null", this.pos)) {
      this.pos += 4;
      return null;
    }
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(text);
    if (!match) return this.fail("unexpected character");
    this.pos += match[0].length;
    const n = Number(match[0]);
    if (!Number.isFinite(n)) this.fail("number out of the double range");
    return n;
  }

  private parseObject(depth: number): Record<string, unknown> {
    const text = this.text;
    this.pos += 1;
    const out: Record<string, unknown> = {};
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === 0x7d) {
      this.pos += 1;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (text.charCodeAt(this.pos) !== 0x22) this.fail("expected a member name");
      const name = this.parseString();
      if (Object.hasOwn(out, name)) this.fail(`duplicate member ${JSON.stringify(name)}`);
      this.skipWhitespace();
      if (text.charCodeAt(this.pos) !== 0x3a) this.fail("expected ':'");
      this.pos += 1;
      const member = this.parseValue(depth + 1);
      // Plain assignment of "__proto__" would set the prototype instead of a member.
      if (name === "__proto__") Object.defineProperty(out, name, { value: member, enumerable: true, writable: true, configurable: true });
      else out[name] = member;
      this.skipWhitespace();
      const next = text.charCodeAt(this.pos);
      if (next === 0x2c) {
        this.pos += 1;
        continue;
      }
      if (next === 0x7d) {
        this.pos += 1;
        return out;
      }
      this.fail("expected ',' or '}'");
    }
  }

  private parseArray(depth: number): unknown[] {
    const text = this.text;
    this.pos += 1;
    const out: unknown[] = [];
    this.skipWhitespace();
    if (text.charCodeAt(this.pos) === 0x5d) {
      this.pos += 1;
      return out;
    }
    for (;;) {
      out.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      const next = text.charCodeAt(this.pos);
      if (next === 0x2c) {
        this.pos += 1;
        continue;
      }
      if (next === 0x5d) {
        this.pos += 1;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }

  private parseString(): string {
    const text = this.text;
    // Fast path: most strings hold no escape and no control character, so one slice does.
    const close = text.indexOf('"', this.pos + 1);
    if (close > 0) {
      const raw = text.slice(this.pos + 1, close);
      if (!NEEDS_SCAN.test(raw)) {
        this.pos = close + 1;
        return raw;
      }
    }
    const start = this.pos;
    this.pos += 1;
    for (;;) {
      if (this.pos >= text.length) this.fail("unterminated string");
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) this.fail("control character in string");
      if (c === 0x5c) {
        const e = text[this.pos + 1];
        if (e === "u") {
          if (!HEX4.test(text.slice(this.pos + 2, this.pos + 6))) this.fail("invalid \\u escape");
          this.pos += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          this.pos += 2;
        } else {
          this.fail("invalid escape");
        }
        continue;
      }
      this.pos += 1;
    }
    this.pos += 1;
    // The grammar is checked above; the platform decodes the escapes.
    const value = JSON.parse(text.slice(start, this.pos)) as string;
    if (LONE_SURROGATE.test(value)) this.fail("lone surrogate in string (not I-JSON)");
    return value;
  }
}

// --- records ---------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

interface Entry {
  line: number;
  orgId: string;
  seq: number;
  prevHash: string;
  hash: string;
  record: Json;
}

interface CheckpointLine {
  line: number;
  orgId: string;
  seq: number;
  hash: string;
  keyId: string;
  signature: string;
  record: Json;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const GENESIS = "0".repeat(64);

const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const isSeq = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 1;
const isTime = (v: unknown): boolean => typeof v === "string" && TIME.test(v) && !Number.isNaN(Date.parse(v)) && new Date(v).toISOString() === v;
const isHex64 = (v: unknown): v is string => typeof v === "string" && HEX64.test(v);

function membersProblem(value: Json, expected: readonly string[]): string | null {
  for (const name of Object.keys(value)) if (!expected.includes(name)) return `unexpected member "${name}"`;
  for (const name of expected) if (!Object.hasOwn(value, name)) return `missing member "${name}"`;
  return null;
}

function entryProblem(r: Json): string | null {
  const members = membersProblem(r, ["v", "kind", "orgId", "seq", "time", "action", "entity", "actor", "summary", "source", "prevHash", "hash"]);
  if (members) return members;
  if (r.v !== 1) return `unsupported version ${JSON.stringify(r.v)}`;
  if (typeof r.orgId !== "string" || r.orgId === "") return "orgId must be a non-empty string";
  if (!isSeq(r.seq)) return "seq must be a positive integer";
  if (!isTime(r.time)) return "time must be ISO-8601 UTC with milliseconds";
  if (r.action !== "insert" && r.action !== "modify" && r.action !== "remove") return "action must be insert, modify or remove";
  const entity = r.entity;
  if (!isObject(entity) || membersProblem(entity, ["type", "id"]) || typeof entity.type !== "string" || typeof entity.id !== "string") {
    return "entity must be { type: string, id: string }";
  }
  if (r.actor !== null && typeof r.actor !== "string") return "actor must be a string or null";
  const s = r.summary;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  if (!isObject(s) || membersProblem(s, ["fields", "redacted", "before", "after"]) || !strings(s.fields) || !strings(s.redacted) || !isObject(s.before) || !isObject(s.after)) {
    return "summary must be { fields: string[], redacted: string[], before: object, after: object }";
  }
  const src = r.source;
  if (!isObject(src) || membersProblem(src, ["eventId", "sequenceNumber"]) || typeof src.eventId !== "string" || typeof src.sequenceNumber !== "string") {
    return "source must be { eventId: string, sequenceNumber: string }";
  }
  if (!isHex64(r.prevHash)) return "prevHash must be 64 lowercase hex digits";
  if (!isHex64(r.hash)) return "hash must be 64 lowercase hex digits";
  return null;
}

function checkpointProblem(r: Json): string | null {
  const members = membersProblem(r, ["v", "kind", "orgId", "seq", "hash", "time", "keyId", "signature"]);
  if (members) return members;
  if (r.v !== 1) return `unsupported version ${JSON.stringify(r.v)}`;
  if (typeof r.orgId !== "string" || r.orgId === "") return "orgId must be a non-empty string";
  if (!isSeq(r.seq)) return "seq must be a positive integer";
  if (!isHex64(r.hash)) return "hash must be 64 lowercase hex digits";
  if (!isTime(r.time)) return "time must be ISO-8601 UTC with milliseconds";
  if (typeof r.keyId !== "string" || !HEX16.test(r.keyId)) return "keyId must be 16 lowercase hex digits";
  if (typeof r.signature !== "string" || !canonicalBase64(r.signature, 64)) return "signature must be canonical base64 of 64 bytes";
  return null;
}

/** Node's base64 decoder skips junk and ignores trailing bits: only the one canonical spelling is accepted. */
function canonicalBase64(text: string, length: number): Buffer | null {
  const bytes = Buffer.from(text, "base64");
  return bytes.length === length && bytes.toString("base64") === text ? bytes : null;
}

// --- hashing and keys ------------------------------------------------------------------------------

/** RFC 8785 canonical JSON, by json-canonicalize (not the writer's library). */
export function canonicalJson(value: unknown): string {
  return canonicalize(value);
}

/** SHA-256 (lowercase hex) of JCS(entry without `hash`). */
export function entryHash(entry: Json): string {
  const { hash: _hash, ...body } = entry;
  return createHash("sha256").update(canonicalJson(body), "utf8").digest("hex");
}

const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

/** The public key as the format writes it: canonical base64 of the raw 32 bytes. Throws otherwise. */
export function parsePublicKey(base64: string): { key: KeyObject; keyId: string } {
  const raw = canonicalBase64(base64.trim(), 32);
  if (!raw) throw new Error("--public-key must be the base64 of a raw 32-byte Ed25519 public key");
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, raw]), format: "der", type: "spki" });
  return { key, keyId: createHash("sha256").update(raw).digest("hex").slice(0, 16) };
}

// --- verification ----------------------------------------------------------------------------------

/** Splits an export into lines; a fatal UTF-8 decode so that invalid bytes are reported, not replaced. */
function splitLines(input: Uint8Array | string): { lines: string[]; badLine: number | null } {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  if (typeof input === "string") return { lines: input.split("\n"), badLine: null };
  try {
    return { lines: decoder.decode(input).split("\n"), badLine: null };
  } catch {
    // Find the offending line to report it.
    let start = 0;
    let line = 1;
    for (let i = 0; i <= input.length; i += 1) {
      if (i === input.length || input[i] === 0x0a) {
        try {
          decoder.decode(input.subarray(start, i));
        } catch {
          return { lines: [], badLine: line };
        }
        start = i + 1;
        line += 1;
      }
    }
    return { lines: [], badLine: 1 };
  }
}

/**
 * Verifies an export in memory: every line a well-formed entry or checkpoint, then each organization's
 * chain on its own (entries of one org in file order must run 1, 2, 3... linked by prevHash, hashes
 * recomputed; each checkpoint must match its org's chain and, given `publicKey`, its signature).
 */
export function verifyExport(input: Uint8Array | string, options: { publicKey?: string; publicKeys?: readonly string[] } = {}): ExportReport {
  // Several keys: an export that spans a key rotation has checkpoints signed by each, told apart by keyId.
  const given = [...(options.publicKeys ?? []), ...(options.publicKey !== undefined ? [options.publicKey] : [])];
  const key = given.length ? new Map(given.map((k) => parsePublicKey(k)).map((k) => [k.keyId, k.key])) : null;
  const report = (malformed: ExportReport["malformed"], orgs: OrgReport[]): ExportReport => ({
    valid: malformed === null && orgs.every((o) => o.valid),
    malformed,
    orgs,
    signaturesChecked: key !== null,
  });

  const { lines, badLine } = splitLines(input);
  if (badLine !== null) return report({ line: badLine, reason: "malformed_line", seq: null, message: "invalid UTF-8" }, []);
  // A final newline ends the last line rather than starting an empty one.
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();

  const orgOrder: string[] = [];
  const entriesByOrg = new Map<string, Entry[]>();
  const checkpointsByOrg = new Map<string, CheckpointLine[]>();
  const orgSlot = (orgId: string) => {
    if (!entriesByOrg.has(orgId)) {
      orgOrder.push(orgId);
      entriesByOrg.set(orgId, []);
      checkpointsByOrg.set(orgId, []);
    }
  };

  for (let i = 0; i < lines.length; i += 1) {
    const line = i + 1;
    let record: unknown;
    try {
      record = parseStrictJson(lines[i]!);
    } catch (error) {
      const message = error instanceof JsonSyntaxError ? error.message : String(error);
      return report({ line, reason: "malformed_line", seq: null, message: `not JSON: ${message}` }, []);
    }
    if (!isObject(record)) return report({ line, reason: "malformed_line", seq: null, message: "not a JSON object" }, []);
    const seq = isSeq(record.seq) ? record.seq : null;
    if (record.kind === "entry") {
      const problem = entryProblem(record);
      if (problem) return report({ line, reason: "malformed_entry", seq, message: problem }, []);
      const orgId = record.orgId as string;
      orgSlot(orgId);
      entriesByOrg.get(orgId)!.push({ line, orgId, seq: seq!, prevHash: record.prevHash as string, hash: record.hash as string, record });
    } else if (record.kind === "checkpoint") {
      const problem = checkpointProblem(record);
      if (problem) return report({ line, reason: "malformed_checkpoint", seq, message: problem }, []);
      const orgId = record.orgId as string;
      orgSlot(orgId);
      checkpointsByOrg.get(orgId)!.push({
        line,
        orgId,
        seq: seq!,
        hash: record.hash as string,
        keyId: record.keyId as string,
        signature: record.signature as string,
        record,
      });
    } else {
      return report({ line, reason: "malformed_line", seq, message: `unknown kind ${JSON.stringify(record.kind)}` }, []);
    }
  }

  return report(
    null,
    orgOrder.map((orgId) => verifyOrganization(orgId, entriesByOrg.get(orgId)!, checkpointsByOrg.get(orgId)!, key)),
  );
}

interface Problem {
  seq: number;
  reason: FailureReason;
  message: string;
}

function verifyOrganization(
  orgId: string,
  entries: Entry[],
  checkpoints: CheckpointLine[],
  key: Map<string, KeyObject> | null,
): OrgReport {
  const problems: Problem[] = [];
  const chain: string[] = []; // chain[seq - 1] = hash, for the prefix that verified
  let brokenAt: number | null = null;

  for (const e of entries) {
    const expected = chain.length + 1;
    let problem: Problem | null = null;
    // Content first: a changed seq or prevHash is a changed entry; only intact entries are judged by position.
    if (entryHash(e.record) !== e.hash) {
      problem = { seq: expected, reason: "hash_mismatch", message: `line ${e.line}: content does not match its hash` };
    } else if (e.seq > expected) {
      problem = { seq: expected, reason: "seq_mismatch", message: `line ${e.line}: expected seq ${expected}, found ${e.seq} (entries missing or out of order)` };
    } else if (e.seq < expected) {
      // A repeated line is misplaced; a different entry under an already verified seq is a fork at that seq.
      const repeat = chain[e.seq - 1] === e.hash;
      problem = {
        seq: repeat ? expected : e.seq,
        reason: "seq_mismatch",
        message: `line ${e.line}: expected seq ${expected}, found ${repeat ? "a repeat of" : "a second, different entry with"} seq ${e.seq}`,
      };
    } else if (e.prevHash !== (expected === 1 ? GENESIS : chain[expected - 2])) {
      // This entry or the one before it was replaced: trust ends at the earlier one.
      problem = {
        seq: Math.max(1, expected - 1),
        reason: "prev_hash_mismatch",
        message: `line ${e.line}: seq ${expected} does not link to seq ${expected - 1}`,
      };
    }
    if (problem) {
      problems.push(problem);
      brokenAt = problem.seq;
      break;
    }
    chain.push(e.hash);
  }

  let consistent = 0;
  let signed = 0;
  let lastCheckpointSeq: number | null = null;
  for (const c of checkpoints) {
    if (c.seq > chain.length) {
      // Beyond a broken entry there is nothing to compare with; that entry's problem already covers it.
      if (brokenAt === null) {
        problems.push({
          seq: chain.length + 1,
          reason: "checkpoint_beyond_head",
          message: `line ${c.line}: checkpoint at seq ${c.seq}, but the chain ends at seq ${chain.length} (entries missing at the end)`,
        });
      }
      continue;
    }
    if (chain[c.seq - 1] !== c.hash) {
      problems.push({ seq: c.seq, reason: "checkpoint_hash_mismatch", message: `line ${c.line}: checkpoint hash differs from the hash of seq ${c.seq}` });
      continue;
    }
    if (key) {
      const signer = key.get(c.keyId);
      if (!signer) {
        problems.push({ seq: c.seq, reason: "checkpoint_key_mismatch", message: `line ${c.line}: signed by key ${c.keyId}, not by any given key (${[...key.keys()].join(", ")})` });
        continue;
      }
      const { signature: _signature, ...body } = c.record;
      const ok = verifySignature(null, Buffer.from(canonicalJson(body), "utf8"), signer, Buffer.from(c.signature, "base64"));
      if (!ok) {
        problems.push({ seq: c.seq, reason: "checkpoint_signature_invalid", message: `line ${c.line}: signature does not verify` });
        continue;
      }
      signed += 1;
    }
    consistent += 1;
    lastCheckpointSeq = Math.max(lastCheckpointSeq ?? 0, c.seq);
  }

  // Lowest seq wins; the entry problem was pushed first, so it wins ties.
  let first: Problem | null = null;
  for (const p of problems) if (first === null || p.seq < first.seq) first = p;
  // Entries from the first invalid seq on are not vouched for, even where their links verified.
  const trusted = first ? Math.min(chain.length, first.seq - 1) : chain.length;
  return {
    orgId,
    valid: first === null,
    entries: entries.length,
    head: trusted ? { seq: trusted, hash: chain[trusted - 1]! } : null,
    checkpoints: checkpoints.length,
    checkpointsConsistent: consistent,
    signaturesVerified: signed,
    lastCheckpointSeq,
    firstInvalidSeq: first?.seq ?? null,
    reason: first?.reason ?? null,
    message: first?.message ?? null,
  };
}

/** The CLI's output lines for a report. */
export function formatReport(report: ExportReport): string[] {
  if (report.malformed) {
    const { line, reason, seq, message } = report.malformed;
    return [`INVALID line=${line}${seq !== null ? ` seq=${seq}` : ""} reason=${reason}: ${message}`];
  }
  if (report.orgs.length === 0) return ["OK empty export: 0 entries, 0 checkpoints"];
  return report.orgs.map((o) => {
    if (!o.valid) return `INVALID org=${o.orgId} seq=${o.firstInvalidSeq} reason=${o.reason}: ${o.message}`;
    const head = o.head ? `head seq ${o.head.seq} hash ${o.head.hash}` : "no head";
    const signatures = report.signaturesChecked
      ? `signatures verified: ${o.signaturesVerified}`
      : "signatures NOT verified (no --public-key)";
    // Entries after the last checkpoint are only as trustworthy as the file they came in.
    const covered = o.lastCheckpointSeq ?? 0;
    const tail = o.head && covered < o.head.seq ? `; seq ${covered + 1}..${o.head.seq} not covered by a checkpoint` : "";
    return `OK org=${o.orgId}: ${o.entries} entries, ${head}, ${o.checkpointsConsistent} checkpoint(s) consistent, ${signatures}${tail}`;
  });
}

const USAGE =
  "usage: audit-verify <export.jsonl | -> [--public-key <base64 of the raw 32-byte Ed25519 public key>]...\n" +
  "       (repeat --public-key for an export that spans a key rotation)";

/** Runs the CLI; returns the exit code. */
export function main(argv: readonly string[], out: (line: string) => void = console.log, err: (line: string) => void = console.error): number {
  let file: string | undefined;
  const publicKeys: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === "--help" || arg === "-h") {
      out(USAGE);
      return 0;
    }
    if (arg === "--public-key") {
      const value = argv[++i];
      if (value === undefined) {
        err(USAGE);
        return 2;
      }
      publicKeys.push(value);
    } else if (arg.startsWith("--public-key=")) {
      publicKeys.push(arg.slice("--public-key=".length));
    } else if (arg.startsWith("--") || file !== undefined) {
      err(`unexpected argument '${arg}'\n${USAGE}`);
      return 2;
    } else {
      file = arg;
    }
  }
  if (file === undefined) {
    err(USAGE);
    return 2;
  }

  let input: Uint8Array;
  try {
    input = readFileSync(file === "-" ? 0 : file);
  } catch (error) {
    err(`cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  let report: ExportReport;
  try {
    report = verifyExport(input, { publicKeys });
  } catch (error) {
    err((error as Error).message);
    return 2;
  }
  for (const line of formatReport(report)) out(line);
  return report.valid ? 0 : 1;
}

const invokedAsScript = (() => {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();

if (invokedAsScript) process.exitCode = main(process.argv.slice(2));
