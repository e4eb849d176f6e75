import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appendEntries, generateAuditKeyPair, signCheckpoint, toJsonLines } from "../../../core/audit/chain";
import { formatReport, main, parseStrictJson, verifyExport } from "../../../tools/audit-verify";
import { makeChanges, root, runCli, tempFile } from "./fixtures";

const keys = generateAuditKeyPair();
const entriesA = appendEntries(null, makeChanges(3, "org_a"));
const entriesB = appendEntries(null, makeChanges(2, "org_b"));
const checkpointA = signCheckpoint(keys.privateKey, { orgId: "org_a", seq: 3, hash: entriesA[2]!.hash, time: "2026-03-02T10:00:00.000Z" });
const exportA = toJsonLines(entriesA, [checkpointA]);

describe("tools/audit-verify", () => {
  it("shares no code with the writer: it imports nothing from core/", () => {
    const source = readFileSync(join(root, "tools/audit-verify.ts"), "utf8");

    const imports = [...source.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]);

    expect(imports.filter((i) => i!.startsWith("."))).toEqual([]);
    expect(imports).toContain("json-canonicalize");
    expect(imports).not.toContain("canonicalize");
  });

  it("verifies each organization of a multi-organization file on its own", () => {
    const interleaved = toJsonLines([entriesA[0]!, entriesB[0]!, entriesA[1]!, entriesB[1]!, entriesA[2]!], [checkpointA]);

    const report = verifyExport(interleaved, { publicKey: keys.publicKey });

    expect(report.valid).toBe(true);
    expect(report.orgs.map((o) => [o.orgId, o.entries, o.signaturesVerified])).toEqual([
      ["org_a", 3, 1],
      ["org_b", 2, 0],
    ]);
    expect(formatReport(report)[1]).toContain("seq 1..2 not covered by a checkpoint");
  });

  it("reports a chain that does not start at seq 1", () => {
    const report = verifyExport(toJsonLines(entriesA.slice(1)));

    expect(report.orgs[0]).toMatchObject({ valid: false, firstInvalidSeq: 1, reason: "seq_mismatch" });
  });

  it("treats a repeated line as misplaced, not as a fork", () => {
    const report = verifyExport(toJsonLines([...entriesA, entriesA[1]!]));

    expect(report.orgs[0]).toMatchObject({ valid: false, firstInvalidSeq: 4, reason: "seq_mismatch" });
  });

  it.each([
    ["not JSON", '{"kind":"entry",', "malformed_line"],
    ["an unknown kind", '{"kind":"note","text":"hi"}', "malformed_line"],
    ["an array", "[1,2]", "malformed_line"],
    ["an empty line", "", "malformed_line"],
    ["an entry with an extra member", JSON.stringify({ ...entriesA[1], note: "x" }), "malformed_entry"],
    ["an entry without actor", JSON.stringify({ ...entriesA[1], actor: undefined }), "malformed_entry"],
    ["an entry with an impossible date", JSON.stringify({ ...entriesA[1], time: "2026-02-30T00:00:00.000Z" }), "malformed_entry"],
    ["an entry with uppercase hex", JSON.stringify({ ...entriesA[1], hash: entriesA[1]!.hash.toUpperCase() }), "malformed_entry"],
    ["a checkpoint with non-canonical base64", JSON.stringify({ ...checkpointA, signature: checkpointA.signature.replace("==", "=") }), "malformed_checkpoint"],
  ])("names the line of %s", (_name, line, reason) => {
    const text = `${JSON.stringify(entriesA[0])}\n${line}\n${JSON.stringify(entriesA[2])}\n`;

    const report = verifyExport(text);

    expect(report.valid).toBe(false);
    expect(report.malformed).toMatchObject({ line: 2, reason });
  });

  it("rejects a duplicate member name, which parsers resolve differently", () => {
    const line = JSON.stringify(entriesA[0]).replace('"actor":', '"actor":"operator","actor":');

    const report = verifyExport(`${line}\n`);

    expect(JSON.parse(line).actor).toBe(entriesA[0]!.actor);
    expect(report.malformed).toMatchObject({ line: 1, reason: "malformed_line", message: expect.stringMatching(/duplicate member "actor"/) });
  });

  it("rejects invalid UTF-8 and a byte order mark", () => {
    const lines = Buffer.from(exportA);
    const badUtf8 = Buffer.concat([lines.subarray(0, lines.indexOf(0x0a) + 1), Buffer.from([0x7b, 0xff, 0x7d, 0x0a])]);
    const withBom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), lines]);

    expect(verifyExport(badUtf8).malformed).toMatchObject({ line: 2, message: "invalid UTF-8" });
    expect(verifyExport(withBom).malformed).toMatchObject({ line: 1, reason: "malformed_line" });
  });

  it("accepts a file without a final newline and re-serialized lines (the hash is over the canonical form)", () => {
    const reorder = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reorder) : v !== null && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reorder(x)])) : v;
    const pretty = [...entriesA, checkpointA]
      .map((r) => JSON.stringify(reorder(r), null, 1).replaceAll("\n", " ").replaceAll("ö", "\\u00f6"))
      .join("\n");

    const report = verifyExport(pretty, { publicKey: keys.publicKey });

    expect(report.valid).toBe(true);
  });

  it("parses strict JSON: nesting, escapes, a __proto__ member kept as data", () => {
    const value = parseStrictJson(' {"a":[1,-2.5e3,{"b":null}],"__proto__":{"x":true},"\\u00e9":"\\ud83d\\ude00"} ') as Record<string, unknown>;

    expect(value.a).toEqual([1, -2500, { b: null }]);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(["a", "__proto__", "é"]);
    expect(value["é"]).toBe("😀");
    expect(() => parseStrictJson("[01]")).toThrow();
    expect(() => parseStrictJson('{"a":1,}')).toThrow();
    expect(() => parseStrictJson('"\\x"')).toThrow(/invalid escape/);
    expect(() => parseStrictJson('"a\tb"')).toThrow(/control character/);
  });

  it("verifies an export that spans a key rotation when given both public keys, and names an unknown signer", () => {
    const next = generateAuditKeyPair();
    const entries = appendEntries(null, makeChanges(4, "org_r"));
    const before = signCheckpoint(keys.privateKey, { orgId: "org_r", seq: 2, hash: entries[1]!.hash, time: "2026-03-02T10:00:00.000Z" });
    const after = signCheckpoint(next.privateKey, { orgId: "org_r", seq: 4, hash: entries[3]!.hash, time: "2026-03-03T10:00:00.000Z" });
    const exported = toJsonLines(entries, [before, after]);

    const both = verifyExport(exported, { publicKeys: [keys.publicKey, next.publicKey] });
    const oldOnly = verifyExport(exported, { publicKeys: [keys.publicKey] });

    expect(both.valid).toBe(true);
    expect(both.orgs[0]!.signaturesVerified).toBe(2);
    expect(oldOnly.valid).toBe(false);
    expect(oldOnly.orgs[0]).toMatchObject({ firstInvalidSeq: 4, reason: "checkpoint_key_mismatch" });
  });

  describe("as a process", () => {
    it("exits 0 with a one-line summary for a valid export", async () => {
      const run = await runCli([tempFile(exportA), "--public-key", keys.publicKey]);

      expect(run.code).toBe(0);
      expect(run.stdout).toBe(`OK org=org_a: 3 entries, head seq 3 hash ${entriesA[2]!.hash}, 1 checkpoint(s) consistent, signatures verified: 1\n`);
    });

    it("exits 1 naming the line of a malformed line", async () => {
      const run = await runCli([tempFile(`${JSON.stringify(entriesA[0])}\nnot json\n`)]);

      expect(run.code).toBe(1);
      expect(run.stdout).toMatch(/^INVALID line=2 reason=malformed_line: not JSON/);
    });

    it("exits 2 for usage errors, an unreadable file and a bad public key", async () => {
      const file = tempFile(exportA);

      const runs = await Promise.all([
        runCli([]),
        runCli([join(root, "no-such-file.jsonl")]),
        runCli([file, "--public-key", "not-a-key"]),
        runCli([file, "--public-key"]),
      ]);

      expect(runs.map((r) => r.code)).toEqual([2, 2, 2, 2]);
      expect(runs[2]!.stderr).toMatch(/raw 32-byte Ed25519 public key/);
    });
  });

  it("main() writes its verdict through the given output", () => {
    const out: string[] = [];

    const code = main([tempFile(exportA), `--public-key=${keys.publicKey}`], (l) => out.push(l), () => {});

    expect(code).toBe(0);
    expect(out).toHaveLength(1);
  });
});
