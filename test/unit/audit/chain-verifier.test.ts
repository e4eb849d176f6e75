import { describe, expect, it } from "vitest";
import { appendEntries, generateAuditKeyPair, publicKeyFromBase64, signCheckpoint, verifyChain } from "../../../core/audit/chain";
import { createChainVerifier } from "../../../core/audit/chain-verifier";
import type { AuditEntry, Checkpoint } from "../../../core/audit/entry";
import { makeChanges } from "./fixtures";

/*
 * The page-at-a-time verifier the API uses must reach the same verdict as verifyChain, the writer's
 * reference, on every way of tampering: compared on a few hundred random tamperings of a chain.
 */

const keys = generateAuditKeyPair();
const other = generateAuditKeyPair();
const ORG = "org_a";
const entries = appendEntries(null, makeChanges(9, ORG));
const sign = (seq: number, key = keys.privateKey, hash = entries[seq - 1]!.hash): Checkpoint =>
  signCheckpoint(key, { orgId: ORG, seq, hash, time: "2026-03-02T10:00:00.000Z" });
const checkpoints = [sign(3), sign(6), sign(9)];

function streamed(list: unknown[], cps: unknown[], publicKey: string | null) {
  const verifier = createChainVerifier({ orgId: ORG, publicKeys: publicKey ? new Map([[keys.keyId, publicKeyFromBase64(publicKey)]]) : null });
  for (const entry of list) if (!verifier.addEntry(entry)) break;
  for (const checkpoint of cps) verifier.addCheckpoint(checkpoint);
  const { lastCheckpointSeq: _ignored, ...result } = verifier.result();
  return result;
}

/** A small deterministic PRNG, so a failing case can be reproduced from its seed. */
function random(seed: number) {
  let state = seed >>> 0 || 1;
  return (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

type Mutation = (list: any[], cps: any[], pick: (n: number) => number) => void;
const mutations: Record<string, Mutation> = {
  "change a field": (list, _c, pick) => void (list[pick(list.length)].summary.after.status = "tampered"),
  "change seq": (list, _c, pick) => void (list[pick(list.length)].seq += 1),
  "change prevHash": (list, _c, pick) => void (list[pick(list.length)].prevHash = "f".repeat(64)),
  "change orgId": (list, _c, pick) => void (list[pick(list.length)].orgId = "org_b"),
  "rehash a changed entry": (list, _c, pick) => {
    const i = pick(list.length);
    const [rehashed] = appendEntries(i ? { seq: list[i - 1].seq, hash: list[i - 1].hash } : null, [{ ...list[i], actor: "operator" }]);
    list[i] = rehashed;
  },
  "delete an entry": (list, _c, pick) => void list.splice(pick(list.length), 1),
  "duplicate an entry": (list, _c, pick) => {
    const i = pick(list.length);
    list.splice(i + 1, 0, structuredClone(list[i]));
  },
  "swap two entries": (list, _c, pick) => {
    const i = pick(list.length - 1);
    [list[i], list[i + 1]] = [list[i + 1], list[i]];
  },
  "insert a forged entry": (list, _c, pick) => {
    const i = pick(list.length);
    const [forged] = appendEntries(i ? { seq: list[i - 1].seq, hash: list[i - 1].hash } : null, makeChanges(1, ORG, 77));
    list.splice(i, 0, forged);
  },
  "truncate the tail": (list, _c, pick) => void list.splice(list.length - 1 - pick(3)),
  "add a member": (list, _c, pick) => void (list[pick(list.length)].extra = 1),
  "malform a member": (list, _c, pick) => void (list[pick(list.length)].time = "yesterday"),
  "replace an entry with text": (list, _c, pick) => void (list[pick(list.length)] = "not json"),
  "rebuild the rest": (list, _c, pick) => {
    const i = 1 + pick(list.length - 1);
    const rebuilt = appendEntries({ seq: list[i - 1].seq, hash: list[i - 1].hash }, list.slice(i + 1));
    list.splice(i, list.length - i, ...rebuilt);
  },
  "change a checkpoint hash": (_l, cps, pick) => void (cps[pick(cps.length)].hash = "e".repeat(64)),
  "forge a signature": (_l, cps, pick) => {
    const i = pick(cps.length);
    cps[i] = { ...cps[i], time: "2026-03-02T11:00:00.000Z" };
  },
  "sign with another key": (_l, cps, pick) => {
    const i = pick(cps.length);
    cps[i] = sign(cps[i].seq, other.privateKey);
  },
  "checkpoint of another org": (_l, cps, pick) => void (cps[pick(cps.length)].orgId = "org_b"),
  "malform a checkpoint": (_l, cps, pick) => void (cps[pick(cps.length)].signature = "AAAA"),
  "drop a checkpoint": (_l, cps, pick) => void cps.splice(pick(cps.length), 1),
};

describe("page-at-a-time verifier", () => {
  it("agrees with verifyChain on an intact chain, with and without a key", () => {
    expect(streamed(entries, checkpoints, keys.publicKey)).toEqual(verifyChain(entries, checkpoints, keys.publicKey, { orgId: ORG }));
    expect(streamed(entries, checkpoints, null)).toEqual(verifyChain(entries, checkpoints, null, { orgId: ORG }));
    expect(streamed([], [], keys.publicKey)).toEqual(verifyChain([], [], keys.publicKey, { orgId: ORG }));
  });

  it.each(Object.keys(mutations))("agrees with verifyChain: %s", (name) => {
    for (let seed = 1; seed <= 25; seed += 1) {
      const pick = random(seed * 7919 + name.length);
      const list: unknown[] = structuredClone(entries) as AuditEntry[];
      const cps: unknown[] = structuredClone(checkpoints);
      mutations[name]!(list, cps, pick);
      // Sometimes a second tampering on top (skipped when the first made it impossible, e.g. rehashing mixed orgs).
      if (pick(2)) {
        try {
          Object.values(mutations)[pick(Object.keys(mutations).length)]!(list, cps, pick);
        } catch {
          // the first tampering alone
        }
      }

      for (const key of [keys.publicKey, null]) {
        const expected = verifyChain(list, cps, key, { orgId: ORG });
        expect(streamed(list, cps, key), `${name}, seed ${seed}, key ${key ? "yes" : "no"}`).toEqual(expected);
      }
    }
  });

  it("checks each checkpoint with the key its keyId names, so a rotated key still verifies", () => {
    const rotated = [sign(3), sign(6, other.privateKey), sign(9, other.privateKey)];
    const verifier = createChainVerifier({
      orgId: ORG,
      publicKeys: new Map([
        [keys.keyId, publicKeyFromBase64(keys.publicKey)],
        [other.keyId, publicKeyFromBase64(other.publicKey)],
      ]),
    });
    for (const entry of entries) verifier.addEntry(entry);
    for (const checkpoint of rotated) verifier.addCheckpoint(checkpoint);

    expect(verifier.result()).toMatchObject({ valid: true, checkpoints: { verified: 3, signaturesVerified: 3 }, lastCheckpointSeq: 9 });
  });

  it("refuses entries after the first checkpoint", () => {
    const verifier = createChainVerifier({ orgId: ORG, publicKeys: null });
    verifier.addCheckpoint(checkpoints[0]);

    expect(() => verifier.addEntry(entries[0])).toThrow(/before the first checkpoint/);
  });
});
