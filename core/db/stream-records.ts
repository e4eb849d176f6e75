import { type DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand, type _Record } from "@aws-sdk/client-dynamodb-streams";
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

/** A range of one shard, as an on-failure record names it. */
export interface ShardRange {
  streamArn: string;
  shardId: string;
  startSequenceNumber: string;
  endSequenceNumber: string;
}

/** GetRecords calls for one range at most; a range is at most one batch (100 records). */
const MAX_READS_PER_RANGE = 50;

/**
 * Reads a shard range back from the stream (GetShardIterator AT_SEQUENCE_NUMBER, then GetRecords
 * until past its end), in Lambda's record shape. A range the stream no longer holds fails with the
 * Streams API's own error (TrimmedDataAccessException, ResourceNotFoundException).
 */
export function createShardRangeReader({ client, region }: { client: DynamoDBStreamsClient; region: string }) {
  return async function readRange(range: ShardRange): Promise<DynamoDBRecord[]> {
    const { ShardIterator } = await client.send(
      new GetShardIteratorCommand({
        StreamArn: range.streamArn,
        ShardId: range.shardId,
        ShardIteratorType: "AT_SEQUENCE_NUMBER",
        SequenceNumber: range.startSequenceNumber,
      }),
    );
    const found: DynamoDBRecord[] = [];
    let iterator = ShardIterator;
    for (let reads = 0; iterator; reads += 1) {
      if (reads === MAX_READS_PER_RANGE) throw new Error(`the range did not end within ${MAX_READS_PER_RANGE} reads`);
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      for (const record of page.Records ?? []) {
        const sequenceNumber = record.dynamodb?.SequenceNumber;
        if (!sequenceNumber) continue;
        if (compareSequenceNumbers(sequenceNumber, range.endSequenceNumber) > 0) return found;
        found.push(toLambdaRecord(record, { region, streamArn: range.streamArn }));
      }
      if (found.length && compareSequenceNumbers(found.at(-1)!.dynamodb!.SequenceNumber!, range.endSequenceNumber) >= 0) return found;
      iterator = page.NextShardIterator;
    }
    return found; // a closed shard, read to its end
  };
}

export type ShardRangeReader = ReturnType<typeof createShardRangeReader>;
