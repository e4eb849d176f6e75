import { beforeAll, describe, expect, it } from "vitest";
import { appendEntries, generateAuditKeyPair, signCheckpoint, toJsonLines, verifyChain } from "../../../core/audit/chain";
import type { AuditEntry, Checkpoint } from "../../../core/audit/entry";
import { verifyExport } from "../../../tools/audit-verify";
import { cliFailure, makeChanges, runCli, tempFile, type CliRun } from "./fixtures";

/*
 * Each way of tampering with an export, detected by both implementations: the writer's verifyChain
 * (in process) and the independent CLI (spawned, on a file), with the same first invalid seq.
 */

const keys = generateAuditKeyPair();
const otherKeys = generateAuditKeyPair();
const entries = appendEntries(null, makeChanges(6));
const head = (seq: number) => ({ seq, hash: entries[seq - 1]!.hash });
const checkpointAt = (seq: number, signer = keys.privateKey): Checkpoint =>
  signCheckpoint(signer, { orgId: "org_a", seq, hash: entries[seq - 1]!.hash, time: "2026-03-02T10:00:00.000Z" });
const checkpoints = [checkpointAt(3), checkpointAt(6)];
const copy = <T>(value: T): T => structuredClone(value);
const lines = (records: unknown[]) => records.map((r) => `${JSON.stringify(r)}\n`).join("");

interface Case {
  name: string;
  entries: unknown[];
  checkpoints: unknown[];
  seq: number;
  reason: string;
  /** What the CLI reports when it legitimately differs (it splits a file by organization). */
  cli?: { seq: number; reason: string };
}

const cases: Case[] = [
  (() => {
    const tampered = copy(entries);
    tampered[2]!.summary.after.status = "reopened";
    return { name: "a changed field", entries: tampered, checkpoints, seq: 3, reason: "hash_mismatch" };
  })(),
  (() => {
    // The forger also fixes the entry's own hash: the link from 4 breaks, so 3 or 4 was replaced.
    const tampered = copy(entries);
    const [rehashed] = appendEntries(head(2), [{ ...tampered[2]!, actor: "operator" }]);
    tampered[2] = rehashed!;
    return { name: "a changed field with its hash recomputed", entries: tampered, checkpoints, seq: 3, reason: "prev_hash_mismatch" };
  })(),
  {
    name: "a deleted entry",
    entries: entries.filter((e) => e.seq !== 3),
    checkpoints,
    seq: 3,
    reason: "seq_mismatch",
  },
  (() => {
    // Deleted, and everything after it renumbered and rehashed into a consistent chain: only a checkpoint can tell.
    const rebuilt = appendEntries(head(2), entries.slice(3));
    return { name: "a deleted entry with the rest rebuilt", entries: [...entries.slice(0, 2), ...rebuilt], checkpoints, seq: 3, reason: "checkpoint_hash_mismatch" };
  })(),
  (() => {
    const [forged] = appendEntries(head(2), makeChanges(1, "org_a", 99));
    return { name: "an inserted entry", entries: [...entries.slice(0, 2), forged!, ...entries.slice(2)], checkpoints, seq: 3, reason: "seq_mismatch" };
  })(),
  {
    name: "two entries swapped",
    entries: [...entries.slice(0, 2), entries[3]!, entries[2]!, ...entries.slice(4)],
    checkpoints,
    seq: 3,
    reason: "seq_mismatch",
  },
  {
    name: "a truncated tail (checkpoint beyond the last entry)",
    entries: entries.slice(0, 4),
    checkpoints,
    seq: 5,
    reason: "checkpoint_beyond_head",
  },
  {
    name: "a replaced tail (hash mismatch at the checkpoint's seq)",
    entries: [...entries.slice(0, 4), ...appendEntries(head(4), makeChanges(2, "org_a", 50))],
    checkpoints,
    seq: 6,
    reason: "checkpoint_hash_mismatch",
  },
  {
    name: "a forged checkpoint signature (another key, the real key's id)",
    entries,
    checkpoints: [{ ...checkpointAt(3, otherKeys.privateKey), keyId: keys.keyId }, checkpoints[1]],
    seq: 3,
    reason: "checkpoint_signature_invalid",
  },
  {
    name: "a signed checkpoint edited to vouch for another seq",
    entries,
    checkpoints: [checkpoints[0], { ...checkpoints[1]!, seq: 5, hash: entries[4]!.hash }],
    seq: 5,
    reason: "checkpoint_signature_invalid",
  },
  {
    name: "a checkpoint signed by an unknown key",
    entries,
    checkpoints: [checkpointAt(3, otherKeys.privateKey), checkpoints[1]],
    seq: 3,
    reason: "checkpoint_key_mismatch",
  },
  (() => {
    const other = appendEntries(null, makeChanges(6, "org_b"));
    return {
      name: "an entry of another organization",
      entries: [...entries.slice(0, 3), other[3]!, ...entries.slice(4)],
      checkpoints,
      seq: 4,
      reason: "org_mismatch",
      // The CLI files the stranger under its own organization; org_a then misses seq 4.
      cli: { seq: 4, reason: "seq_mismatch" },
    };
  })(),
];

describe("tampering detected by verifyChain and by the CLI", () => {
  const runs = new Map<string, CliRun>();

  beforeAll(async () => {
    // One process per case, started together: the CLI is tested as users run it.
    await Promise.all(
      cases.map(async (c) => runs.set(c.name, await runCli([tempFile(lines([...c.entries, ...c.checkpoints])), "--public-key", keys.publicKey]))),
    );
  });

  it("accepts the untampered export in both", async () => {
    const result = verifyChain(entries, checkpoints, keys.publicKey);
    const run = await runCli([tempFile(toJsonLines(entries, checkpoints)), "--public-key", keys.publicKey]);

    expect(result.valid).toBe(true);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^OK org=org_a: 6 entries, head seq 6 hash [0-9a-f]{64}, 2 checkpoint\(s\) consistent, signatures verified: 2\n$/);
  });

  it.each(cases)("$name", (c) => {
    const result = verifyChain(c.entries, c.checkpoints, keys.publicKey);
    const run = runs.get(c.name)!;

    expect({ valid: result.valid, seq: result.firstInvalidSeq, reason: result.reason }).toEqual({ valid: false, seq: c.seq, reason: c.reason });
    expect(run.code).toBe(1);
    expect(cliFailure(run.stdout)).toEqual(c.cli ?? { seq: c.seq, reason: c.reason });
  });

  it("without a public key, still catches a truncated tail but reports signatures as not verified", async () => {
    const forged = [{ ...checkpointAt(3, otherKeys.privateKey), keyId: keys.keyId }];

    const truncated = await runCli([tempFile(lines([...entries.slice(0, 2), ...forged]))]);
    const unsigned = await runCli([tempFile(lines([...entries, ...forged]))]);

    expect(truncated.code).toBe(1);
    expect(cliFailure(truncated.stdout)).toEqual({ seq: 3, reason: "checkpoint_beyond_head" });
    expect(unsigned.code).toBe(0);
    expect(unsigned.stdout).toContain("signatures NOT verified (no --public-key)");
    expect(verifyChain(entries, forged)).toMatchObject({ valid: true, checkpoints: { verified: 1, signaturesVerified: 0 } });
  });
});

describe("one changed byte anywhere in a line", () => {
  const exported = Buffer.from(toJsonLines(entries, checkpoints));
  const starts = [0];
  for (let i = 0; i < exported.length; i += 1) if (exported[i] === 0x0a) starts.push(i + 1);
  /** Byte range of a 1-based line, without its newline. */
  const lineRange = (line: number) => [starts[line - 1]!, starts[line]! - 1] as const;
  const mutate = (at: number, mask: number) => {
    const bytes = Buffer.from(exported);
    bytes[at] = bytes[at]! ^ mask;
    return bytes;
  };

  /** The writer's view: an API that parses lines with JSON.parse and hands them to verifyChain. */
  function writerVerdict(bytes: Buffer): { parsed: boolean; valid?: boolean; seq?: number | null } {
    const records: Record<string, unknown>[] = [];
    try {
      for (const line of bytes.toString("utf8").split("\n").filter(Boolean)) records.push(JSON.parse(line));
    } catch {
      return { parsed: false };
    }
    const result = verifyChain(
      records.filter((r) => r.kind !== "checkpoint"),
      records.filter((r) => r.kind === "checkpoint"),
      keys.publicKey,
      { orgId: "org_a" },
    );
    return { parsed: true, valid: result.valid, seq: result.firstInvalidSeq };
  }

  const masks = [{ mask: 0x01, name: "flipped low bit" }, { mask: 0x20, name: "flipped 0x20 bit" }];

  it.each(masks)("in an entry line (seq 3), $name, is caught at seq 3 or as line 3", ({ mask }) => {
    const [from, to] = lineRange(3);
    const misses: string[] = [];

    for (let at = from; at < to; at += 1) {
      const bytes = mutate(at, mask);
      const cli = verifyExport(bytes, { publicKey: keys.publicKey });
      const writer = writerVerdict(bytes);
      const cliOk = !cli.valid && (cli.malformed ? cli.malformed.line === 3 : cli.orgs.some((o) => o.firstInvalidSeq === 3));
      const writerOk = !writer.parsed || (writer.valid === false && writer.seq === 3);
      if (!cliOk || !writerOk) misses.push(`byte ${at - from}: cli ${JSON.stringify(cli.malformed ?? cli.orgs)}, writer ${JSON.stringify(writer)}`);
    }

    expect(to - from).toBeGreaterThan(300);
    expect(misses).toEqual([]);
  });

  it.each(masks)("in a checkpoint line, $name, is always caught with the public key", ({ mask }) => {
    const [from, to] = lineRange(8);
    const misses: number[] = [];

    for (let at = from; at < to; at += 1) {
      const bytes = mutate(at, mask);
      const cli = verifyExport(bytes, { publicKey: keys.publicKey });
      const writer = writerVerdict(bytes);
      if (cli.valid || (writer.parsed && writer.valid)) misses.push(at - from);
    }

    expect(misses).toEqual([]);
  });

  it("makes the CLI process exit non-zero, naming the seq or the line", async () => {
    const [from, to] = lineRange(3);
    const text = exported.subarray(from, to).toString("latin1");
    const inValue = from + text.indexOf("Ticket 3") + 1; // inside a summary value
    const inHash = from + text.indexOf('"hash":"') + 10;
    const structural = from; // the opening brace

    const runs = await Promise.all(
      [inValue, inHash, structural].map((at) => runCli([tempFile(mutate(at, 0x01)), "--public-key", keys.publicKey])),
    );

    expect(runs.map((r) => r.code)).toEqual([1, 1, 1]);
    expect(runs.map((r) => cliFailure(r.stdout))).toEqual([
      { seq: 3, reason: "hash_mismatch" },
      { seq: 3, reason: "hash_mismatch" },
      { line: 3, reason: "malformed_line" },
    ]);
  });
});
