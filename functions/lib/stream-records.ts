import type { _Record } from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBRecord } from "aws-lambda";

/**
 * A record read with the DynamoDB Streams API, in the shape Lambda's event source mapping hands to a
 * function. Used by the local stream poller and by the redrive of a failure queue, so that a replayed
 * record is exactly what the consumer would have been given the first time.
 */
export function toLambdaRecord(record: _Record, context: { region: string; streamArn: string }): DynamoDBRecord {
  const d = record.dynamodb!;
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: record.eventID!,
    eventName: record.eventName as DynamoDBRecord["eventName"],
    eventVersion: record.eventVersion ?? "1.1",
    eventSource: "aws:dynamodb",
    awsRegion: context.region,
    // The Streams API gives a Date (DynamoDB Local: rounded to the minute); Lambda gives epoch seconds.
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(new Date(created).getTime() / 1000) } : {}),
      Keys: d.Keys as never,
      ...(d.NewImage ? { NewImage: d.NewImage as never } : {}),
      ...(d.OldImage ? { OldImage: d.OldImage as never } : {}),
      SequenceNumber: d.SequenceNumber!,
      SizeBytes: d.SizeBytes!,
      StreamViewType: d.StreamViewType as never,
    },
    eventSourceARN: context.streamArn,
    ...(record.userIdentity ? { userIdentity: record.userIdentity } : {}),
  };
}

/** Stream sequence numbers are decimal strings of up to 40 digits: compare them as integers. */
export function compareSequenceNumbers(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
