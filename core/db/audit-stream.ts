import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import type { StreamChangeRecord } from "../audit/summarize";

/**
 * A Lambda DynamoDB stream record as the audit consumer reads it: images unmarshalled to plain
 * values. A number a double cannot hold exactly (an integer beyond 2^53, or out of range) stays its
 * decimal string, as docs/audit-log-format.md section 3.2 says, instead of being rounded silently.
 */
export function toStreamChangeRecord(record: DynamoDBRecord): StreamChangeRecord {
  const d = record.dynamodb ?? {};
  return {
    eventName: record.eventName as StreamChangeRecord["eventName"],
    eventId: record.eventID ?? "",
    sequenceNumber: d.SequenceNumber ?? "",
    // Lambda: epoch seconds. Missing would be a broken record; toAuditChange rejects it by name.
    approximateCreationTime: d.ApproximateCreationDateTime ?? Number.NaN,
    ...(d.OldImage ? { oldImage: image(d.OldImage) } : {}),
    ...(d.NewImage ? { newImage: image(d.NewImage) } : {}),
    ...(record.userIdentity ? { userIdentity: record.userIdentity as StreamChangeRecord["userIdentity"] & object } : {}),
  };
}

function image(attributes: NonNullable<NonNullable<DynamoDBRecord["dynamodb"]>["NewImage"]>): Record<string, unknown> {
  return unmarshall(attributes as Record<string, AttributeValue>, { wrapNumbers: exactNumber });
}

function exactNumber(text: string): number | string {
  const value = Number(text);
  if (!Number.isFinite(value)) return text;
  return Number.isInteger(value) && !Number.isSafeInteger(value) ? text : value;
}
