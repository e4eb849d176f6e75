import { describe, expect, it } from "vitest";
import { priorityLabel, priorityOf } from "../../../core/tickets/priority";

describe("priority matrix", () => {
  it.each([
    [1, 1, 1, "Critical"],
    [1, 2, 2, "High"],
    [2, 1, 2, "High"],
    [1, 3, 3, "Moderate"],
    [2, 2, 3, "Moderate"],
    [3, 1, 3, "Moderate"],
    [2, 3, 4, "Low"],
    [3, 2, 4, "Low"],
    [3, 3, 5, "Planning"],
  ])("impact %i and urgency %i give priority %i (%s)", (impact, urgency, priority, label) => {
    const result = priorityOf(impact, urgency);

    expect(result).toBe(priority);
    expect(priorityLabel(result)).toBe(label);
  });

  it("refuses values outside 1..3", () => {
    expect(() => priorityOf(0, 1)).toThrow(RangeError);
    expect(() => priorityOf(2, 4)).toThrow(RangeError);
  });
});
