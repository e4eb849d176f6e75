import { verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  appendEntries,
  checkpointSigningBytes,
  generateAuditKeyPair,
  publicKeyFromBase64,
  signCheckpoint,
  toJsonLines,
  verifyChain,
} from "../../../core/audit/chain";
import { GENESIS_HASH, hashEntry } from "../../../core/audit/entry";
import { makeChanges } from "./fixtures";

describe("appendEntries", () => {
  it("starts an empty chain at seq 1 linked to the genesis hash", () => {
    const changes = makeChanges(3);

    const entries = appendEntries(null, changes);

    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3]);
    expect(entries[0]!.prevHash).toBe(GENESIS_HASH);
    expect(entries[1]!.prevHash).toBe(entries[0]!.hash);
    expect(entries[2]!.prevHash).toBe(entries[1]!.hash);
    expect(new Set(entries.map((e) => e.hash)).size).toBe(3);
  });

  it("carries every member of the change plus the chain members", () => {
    const [change] = makeChanges(1);

    const [entry] = appendEntries(null, [change!]);

    expect(entry).toEqual({ v: 1, kind: "entry", seq: 1, prevHash: GENESIS_HASH, hash: expect.stringMatching(/^[0-9a-f]{64}$/), ...change });
    expect(entry!.hash).toBe(hashEntry(entry!));
  });

  it("continues after an existing head", () => {
    const first = appendEntries(null, makeChanges(2));
    const head = { seq: 2, hash: first[1]!.hash };

    const next = appendEntries(head, makeChanges(2, "org_a", 3));

    expect(next.map((e) => e.seq)).toEqual([3, 4]);
    expect(next[0]!.prevHash).toBe(head.hash);
    expect(verifyChain([...first, ...next], []).valid).toBe(true);
  });

  it("produces the same chain whether changes are appended at once or one by one", () => {
    const changes = makeChanges(4);

    const atOnce = appendEntries(null, changes);
    const oneByOne = changes.reduce<ReturnType<typeof appendEntries>>((chain, change) => {
      const last = chain[chain.length - 1];
      return [...chain, ...appendEntries(last ? { seq: last.seq, hash: last.hash } : null, [change])];
    }, []);

    expect(oneByOne).toEqual(atOnce);
  });

  it("hashes content: a different change gives a different hash at the same place", () => {
    const [a] = makeChanges(1);
    const b = { ...a!, actor: "operator" };

    const [ea] = appendEntries(null, [a!]);
    const [eb] = appendEntries(null, [b]);

    expect(ea!.hash).not.toBe(eb!.hash);
  });

  it("does not share objects with the changes it was given", () => {
    const changes = makeChanges(1);
    const [entry] = appendEntries(null, changes);

    changes[0]!.summary.after.status = "tampered";

    expect(entry!.summary.after.status).toBe("closed");
    expect(hashEntry(entry!)).toBe(entry!.hash);
  });

  it("returns nothing for no changes", () => {
    expect(appendEntries({ seq: 5, hash: "a".repeat(64) }, [])).toEqual([]);
  });

  it("refuses changes of two organizations in one append", () => {
    const changes = [...makeChanges(1, "org_a"), ...makeChanges(1, "org_b")];

    expect(() => appendEntries(null, changes)).toThrow(expect.objectContaining({ code: "audit_chain_invalid" }));
  });

  it("refuses a head that is not a head", () => {
    expect(() => appendEntries({ seq: 0, hash: GENESIS_HASH }, makeChanges(1))).toThrow(expect.objectContaining({ code: "audit_chain_invalid" }));
    expect(() => appendEntries({ seq: 1, hash: "XYZ" }, makeChanges(1))).toThrow(expect.objectContaining({ code: "audit_chain_invalid" }));
  });
});

describe("signCheckpoint", () => {
  it("signs the JCS bytes of the checkpoint without its signature, with the key's id", () => {
    const keys = generateAuditKeyPair();
    const head = { orgId: "org_a", seq: 7, hash: "b".repeat(64), time: "2026-03-02T10:00:00.000Z" };

    const checkpoint = signCheckpoint(keys.privateKey, head);

    const { signature, ...body } = checkpoint;
    expect(body).toEqual({ v: 1, kind: "checkpoint", ...head, keyId: keys.keyId });
    expect(verify(null, checkpointSigningBytes(body), publicKeyFromBase64(keys.publicKey), Buffer.from(signature, "base64"))).toBe(true);
    expect(verify(null, checkpointSigningBytes({ ...body, seq: 8 }), publicKeyFromBase64(keys.publicKey), Buffer.from(signature, "base64"))).toBe(false);
  });

  it("refuses a seed that is not base64 of 32 bytes", () => {
    const head = { orgId: "org_a", seq: 1, hash: "b".repeat(64), time: "2026-03-02T10:00:00.000Z" };

    expect(() => signCheckpoint(Buffer.alloc(31).toString("base64"), head)).toThrow(expect.objectContaining({ code: "audit_key_invalid" }));
  });
});

describe("verifyChain on intact input", () => {
  it("accepts an empty chain", () => {
    expect(verifyChain([], [])).toMatchObject({ valid: true, length: 0, head: null, firstInvalidSeq: null });
  });

  it("reports length, head and checkpoints, with and without a public key", () => {
    const keys = generateAuditKeyPair();
    const entries = appendEntries(null, makeChanges(5));
    const checkpoints = [2, 5].map((seq) => signCheckpoint(keys.privateKey, { orgId: "org_a", seq, hash: entries[seq - 1]!.hash, time: entries[seq - 1]!.time }));

    const signed = verifyChain(entries, checkpoints, keys.publicKey);
    const unsigned = verifyChain(entries, checkpoints);

    expect(signed).toMatchObject({ valid: true, length: 5, head: { seq: 5, hash: entries[4]!.hash }, checkpoints: { verified: 2, signaturesVerified: 2 } });
    expect(unsigned).toMatchObject({ valid: true, checkpoints: { verified: 2, signaturesVerified: 0 } });
  });

  it("serializes an export as one JCS line per record, entries first", () => {
    const keys = generateAuditKeyPair();
    const entries = appendEntries(null, makeChanges(2));
    const checkpoint = signCheckpoint(keys.privateKey, { orgId: "org_a", seq: 2, hash: entries[1]!.hash, time: entries[1]!.time });

    const lines = toJsonLines(entries, [checkpoint]).split("\n");

    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe("");
    expect(lines.slice(0, 3).map((l) => JSON.parse(l).kind)).toEqual(["entry", "entry", "checkpoint"]);
    expect(lines[0]!.startsWith('{"action":')).toBe(true);
  });
});
