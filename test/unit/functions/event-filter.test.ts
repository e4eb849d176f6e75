import { describe, expect, it } from "vitest";
import { matches, matchesAny } from "../../../functions/lib/event-filter";

const record = {
  eventName: "MODIFY",
  dynamodb: { NewImage: { entity: { S: "ticket" }, pk: { S: "T#org1" }, n: { N: "3" } } },
};

describe("event filter patterns (Lambda FilterCriteria subset)", () => {
  it("matches a value from a list at a nested path", () => {
    expect(matches({ dynamodb: { NewImage: { entity: { S: ["agent", "ticket"] } } } }, record)).toBe(true);
    expect(matches({ dynamodb: { NewImage: { entity: { S: ["agent"] } } } }, record)).toBe(false);
  });

  it("supports prefix, anything-but and exists", () => {
    expect(matches({ dynamodb: { NewImage: { pk: { S: [{ prefix: "T#" }] } } } }, record)).toBe(true);
    expect(matches({ dynamodb: { NewImage: { entity: { S: [{ "anything-but": ["ticket"] }] } } } }, record)).toBe(false);
    expect(matches({ dynamodb: { NewImage: { entity: { S: [{ "anything-but": ["connection"] }] } } } }, record)).toBe(true);
    expect(matches({ dynamodb: { OldImage: [{ exists: false }] } }, record)).toBe(true);
    expect(matches({ dynamodb: { NewImage: [{ exists: true }] } }, record)).toBe(true);
  });

  it("passes a record when any pattern matches, and every record when there are none", () => {
    expect(matchesAny([{ eventName: ["INSERT"] }, { eventName: ["MODIFY"] }], record)).toBe(true);
    expect(matchesAny([{ eventName: ["INSERT"] }], record)).toBe(false);
    expect(matchesAny([], record)).toBe(true);
  });

  it("refuses an operator it does not implement instead of ignoring it", () => {
    expect(() => matches({ n: [{ numeric: [">", 1] }] }, { n: 2 })).toThrow(/Unsupported filter operator/);
  });
});
