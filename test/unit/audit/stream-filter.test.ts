import { describe, expect, it } from "vitest";
import { marshall } from "@aws-sdk/util-dynamodb";
import { AUDIT_OWN_ENTITY_TYPES, AUDITED_ENTITY_TYPES, IGNORED_ENTITY_TYPES, NOISE_ENTITY_TYPES } from "../../../core/audit/summarize";
import { toStreamChangeRecord } from "../../../core/db/audit-stream";
import { auditConsumer } from "../../../functions/manifest/audit";
import { streams } from "../../../functions/routes";
import { matchesAny } from "../../../functions/lib/event-filter";

/*
 * The audit consumer's event filter (the same patterns go to the deployed event source mapping and
 * to the local poller): tenant items of audited types pass, whatever the event; noise, the audit
 * log's own items and platform items do not.
 */

function record(eventName: "INSERT" | "MODIFY" | "REMOVE", item: Record<string, unknown>) {
  const image = marshall(item);
  return {
    eventName,
    eventID: "e1",
    dynamodb: {
      Keys: marshall({ pk: item.pk, sk: item.sk }),
      ...(eventName !== "REMOVE" ? { NewImage: image } : {}),
      ...(eventName !== "INSERT" ? { OldImage: image } : {}),
      SequenceNumber: "1",
      ApproximateCreationDateTime: 1_772_442_000,
    },
  };
}

const passes = (eventName: "INSERT" | "MODIFY" | "REMOVE", item: Record<string, unknown>) =>
  matchesAny(auditConsumer.filterPatterns, record(eventName, item));

describe("audit consumer's event filter", () => {
  it("is registered in the manifest", () => {
    expect(streams).toContainEqual(auditConsumer);
  });

  it.each(["INSERT", "MODIFY", "REMOVE"] as const)("passes every audited type on %s", (event) => {
    for (const entity of [...AUDITED_ENTITY_TYPES, "someFutureType"]) {
      expect(passes(event, { pk: "T#org1", sk: "X#1", entity }), entity).toBe(true);
    }
  });

  it.each(["INSERT", "MODIFY", "REMOVE"] as const)("drops noise and the audit log's own items on %s", (event) => {
    for (const entity of [...NOISE_ENTITY_TYPES, ...AUDIT_OWN_ENTITY_TYPES]) {
      expect(passes(event, { pk: "T#org1", sk: "X#1", entity }), entity).toBe(false);
    }
  });

  it("is generated from the ignore list", () => {
    expect(JSON.stringify(auditConsumer.filterPatterns)).toContain(JSON.stringify([...IGNORED_ENTITY_TYPES]));
  });

  it("drops platform items and items without a type", () => {
    expect(passes("INSERT", { pk: "P#AUDIT", sk: "KEY#1", entity: "auditKey" })).toBe(false);
    expect(passes("INSERT", { pk: "P#STATS", sk: "X", entity: "organization" })).toBe(false);
    expect(passes("INSERT", { pk: "T#org1", sk: "X" })).toBe(false);
  });
});

describe("stream record conversion", () => {
  it("keeps numbers a double cannot hold as their decimal text", () => {
    const converted = toStreamChangeRecord({
      eventName: "INSERT",
      eventID: "e1",
      dynamodb: {
        NewImage: { pk: { S: "T#o" }, big: { N: "123456789012345678901" }, small: { N: "0.25" }, n: { N: "42" } },
        SequenceNumber: "7",
        ApproximateCreationDateTime: 1_772_442_000,
      },
    });

    expect(converted).toMatchObject({
      eventName: "INSERT",
      eventId: "e1",
      sequenceNumber: "7",
      approximateCreationTime: 1_772_442_000,
      newImage: { pk: "T#o", big: "123456789012345678901", small: 0.25, n: 42 },
    });
  });
});
