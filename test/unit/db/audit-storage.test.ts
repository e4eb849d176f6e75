import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { storedJson } from "../../../core/db/audit.repository";
import { itemSize, writeUnits } from "../../../bench/write-units";
import { marshall } from "@aws-sdk/util-dynamodb";

/** A stored entry item as the repository writes it (keys, type, orgId and the JSON). */
const entryItem = (json: string) =>
  marshall({ pk: "T#01m8nwen38xwmqva1d2qp12pdc", sk: "AUDIT#000000000005", entity: "auditEntry", orgId: "01m8nwen38xwmqva1d2qp12pdc", ...storedJson(json) });

const text = (n: number) => JSON.stringify({ summary: { after: Object.fromEntries(Array.from({ length: n }, (_, i) => [`field${i}`, `value number ${i} of ${n}, partly repeated`])) } });

describe("audit entry storage", () => {
  it("keeps a small entry as text", () => {
    const json = text(5);
    expect(storedJson(json)).toEqual({ json });
  });

  it("gzips an entry when that saves a write unit, and the text comes back byte for byte", () => {
    const json = text(25);
    expect(Buffer.byteLength(json)).toBeGreaterThan(1024);

    const stored = storedJson(json);

    expect(stored).toHaveProperty("jsonGz");
    expect(gunzipSync((stored as { jsonGz: Uint8Array }).jsonGz).toString("utf8")).toBe(json);
    expect(writeUnits(undefined, entryItem(json), true).table).toBe(2);
  });

  it("never stores an item of more write units than the plain text would take", () => {
    for (const n of [10, 15, 20, 30, 60, 200]) {
      const json = text(n);
      const plain = marshall({ pk: "T#01m8nwen38xwmqva1d2qp12pdc", sk: "AUDIT#000000000005", entity: "auditEntry", orgId: "01m8nwen38xwmqva1d2qp12pdc", json });
      expect(Math.ceil(itemSize(entryItem(json)) / 1024)).toBeLessThanOrEqual(Math.ceil(itemSize(plain) / 1024));
    }
  });
});

describe("write units as DynamoDB bills them (bench/write-units.ts)", () => {
  const small = marshall({ pk: "A", sk: "1", v: "y" });
  const big = marshall({ pk: "A", sk: "1", v: "x".repeat(3000) });

  it("bills per started KB of the larger image, twice in a transaction", () => {
    expect(writeUnits(undefined, small, false)).toEqual({ table: 1, index: 0 });
    expect(writeUnits(big, small, false)).toEqual({ table: 3, index: 0 });
    expect(writeUnits(undefined, small, true)).toEqual({ table: 2, index: 0 });
  });

  it("adds the index write of an item in gsi1, a delete and a put when its index key changes", () => {
    const indexed = (gsi1pk: string, v: string) => marshall({ pk: "A", sk: "1", gsi1pk, gsi1sk: "s", v });
    expect(writeUnits(undefined, indexed("p", "a"), true)).toEqual({ table: 2, index: 1 });
    expect(writeUnits(indexed("p", "a"), indexed("p", "b"), false)).toEqual({ table: 1, index: 1 });
    expect(writeUnits(indexed("p", "a"), indexed("q", "a"), false)).toEqual({ table: 1, index: 2 });
    expect(writeUnits(indexed("p", "a"), indexed("p", "a"), false)).toEqual({ table: 1, index: 0 });
  });
});
