import { describe, expect, it } from "vitest";
import {
  keyIdOf,
  privateKeyFromSeed,
  publicKeyToBase64,
  signCheckpoint,
  toJsonLines,
  verifyChain,
} from "../../../core/audit/chain";
import { canonicalJson, GENESIS_HASH, hashEntry, type AuditEntry, type Checkpoint } from "../../../core/audit/entry";
import * as cli from "../../../tools/audit-verify";
import { cliFailure, readVectors, runCli, tempFile } from "./fixtures";

const { doc, blocks } = readVectors();
const entries = JSON.parse(blocks.chain!) as AuditEntry[];
const checkpoint = JSON.parse(blocks.checkpoint!) as Checkpoint;
const key = JSON.parse(blocks.key!) as { seedHex: string; privateKey: string; publicKeyHex: string; publicKey: string; keyId: string };
const withoutHash = ({ hash: _h, ...rest }: AuditEntry) => rest;
const withoutSignature = ({ signature: _s, ...rest }: Checkpoint) => rest;

describe("test vectors of docs/audit-log-format.md", () => {
  it("contains every vector block the document promises", () => {
    expect(Object.keys(blocks).sort()).toEqual(["canonical-entry-1", "chain", "checkpoint", "checkpoint-signed-bytes", "export", "key"]);
    expect(entries).toHaveLength(3);
  });

  it("gives the canonical string of entry 1 that both JCS implementations produce", () => {
    const writer = canonicalJson(withoutHash(entries[0]!));
    const verifier = cli.canonicalJson(withoutHash(entries[0]!));

    expect(writer).toBe(blocks["canonical-entry-1"]);
    expect(verifier).toBe(blocks["canonical-entry-1"]);
  });

  it("states hashes that the writer and the verifier both recompute", () => {
    const writer = entries.map((e) => hashEntry(e));
    const verifier = entries.map((e) => cli.entryHash(e as unknown as Record<string, unknown>));

    expect(writer).toEqual(entries.map((e) => e.hash));
    expect(verifier).toEqual(entries.map((e) => e.hash));
    for (const e of entries) expect(doc).toContain(`seq ${e.seq} \`${e.hash}\``);
  });

  it("forms a chain from the genesis hash", () => {
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries.map((e) => e.prevHash)).toEqual([GENESIS_HASH, entries[0]!.hash, entries[1]!.hash]);
  });

  it("uses the RFC 8032 test key, whose public half and key id follow from the seed", () => {
    const privateKey = privateKeyFromSeed(key.privateKey);

    expect(Buffer.from(key.privateKey, "base64").toString("hex")).toBe(key.seedHex);
    expect(publicKeyToBase64(privateKey)).toBe(key.publicKey);
    expect(Buffer.from(key.publicKey, "base64").toString("hex")).toBe(key.publicKeyHex);
    expect(keyIdOf(key.publicKey)).toBe(key.keyId);
    expect(cli.parsePublicKey(key.publicKey).keyId).toBe(key.keyId);
  });

  it("signs exactly the documented bytes, reproducibly (Ed25519 is deterministic)", () => {
    const signedBytes = blocks["checkpoint-signed-bytes"]!;

    const resigned = signCheckpoint(key.privateKey, { orgId: checkpoint.orgId, seq: checkpoint.seq, hash: checkpoint.hash, time: checkpoint.time });

    expect(canonicalJson(withoutSignature(checkpoint))).toBe(signedBytes);
    expect(cli.canonicalJson(withoutSignature(checkpoint))).toBe(signedBytes);
    expect(resigned).toEqual(checkpoint);
  });

  it("verifies with the writer's verifyChain, signature included", () => {
    const result = verifyChain(entries, [checkpoint], key.publicKey);

    expect(result).toMatchObject({ valid: true, length: 3, head: { seq: 3, hash: entries[2]!.hash }, firstInvalidSeq: null });
    expect(result.checkpoints).toEqual({ verified: 1, signaturesVerified: 1 });
  });

  it("documents the export exactly as the writer serializes it, and the verifier accepts it", () => {
    const exported = toJsonLines(entries, [checkpoint]);

    const report = cli.verifyExport(Buffer.from(blocks.export!), { publicKey: key.publicKey });

    expect(exported).toBe(`${blocks.export}\n`);
    expect(report.valid).toBe(true);
    expect(report.orgs).toMatchObject([{ orgId: "org_example", entries: 3, signaturesVerified: 1, head: { seq: 3 } }]);
  });

  it("prints the documented line when the CLI verifies the documented export", async () => {
    const file = tempFile(`${blocks.export}\n`);
    const documented = /prints\n`(OK org=[^`]+)`/.exec(doc)?.[1];

    const run = await runCli([file, "--public-key", key.publicKey]);

    expect(run.code).toBe(0);
    expect(documented).toBeDefined();
    expect(run.stdout.trim()).toBe(documented);
  });

  it("fails in the CLI when the documented signature is checked against another key", async () => {
    const file = tempFile(`${blocks.export}\n`);
    const otherKey = Buffer.alloc(32, 7);
    const other = publicKeyToBase64(privateKeyFromSeed(otherKey.toString("base64")));

    const run = await runCli([file, "--public-key", other]);

    expect(run.code).toBe(1);
    expect(cliFailure(run.stdout)).toEqual({ seq: 3, reason: "checkpoint_key_mismatch" });
  });
});
