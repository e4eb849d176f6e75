import { describe, expect, it } from "vitest";
import { createCursorCodec } from "../../../core/db/cursor";

describe("signed pagination cursors", () => {
  const codec = createCursorCodec("a server secret of enough length");
  const key = { pk: "T#org1", sk: "TICKET#01abc" };

  it("round-trips a key it issued for the same scope", () => {
    const cursor = codec.encode(key, "tickets:org1")!;

    expect(codec.decode(cursor, "tickets:org1", { pk: "T#org1" })).toEqual(key);
  });

  it("refuses the same cursor in another scope, under another secret, or with any byte changed", () => {
    const cursor = codec.encode(key, "tickets:org1")!;
    const [payload, tag] = cursor.split(".") as [string, string];
    const flipped = `${payload}.${tag.slice(0, -2)}${tag.endsWith("AA") ? "BA" : "AA"}`;
    const forgedPayload = `${Buffer.from(JSON.stringify({ pk: "T#org1", sk: "ZZZ" })).toString("base64url")}.${tag}`;

    for (const [bad, scope] of [
      [cursor, "inbox:org1:agent"],
      [createCursorCodec("another server secret, as long").encode(key, "tickets:org1")!, "tickets:org1"],
      [flipped, "tickets:org1"],
      [forgedPayload, "tickets:org1"],
      [payload, "tickets:org1"],
    ] as const) {
      expect(() => codec.decode(bad, scope, { pk: "T#org1" })).toThrow(expect.objectContaining({ code: "invalid_cursor" }));
    }
  });

  it("refuses a signed cursor whose partition is not the expected one", () => {
    const cursor = codec.encode({ pk: "T#org2", sk: "X" }, "tickets:org1")!;

    expect(() => codec.decode(cursor, "tickets:org1", { pk: "T#org1" })).toThrow(expect.objectContaining({ code: "invalid_cursor" }));
  });

  it("needs a secret of at least 16 bytes", () => {
    expect(() => createCursorCodec("short")).toThrow();
  });
});
