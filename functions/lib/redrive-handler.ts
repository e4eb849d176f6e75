import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import type { StreamConsumerSpec } from "../manifest.types";
import { createShardRangeReader } from "../../core/db/stream-records";
import { config } from "./config";
import { createSqsFailureQueue } from "./failure-queue";
import { logger } from "./logger";
import { streamLosses } from "./services/audit";
import { createStreamRedrive, type RedriveSummary } from "./stream-redrive";

type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

let clients: { sqs: SQSClient; streams: DynamoDBStreamsClient } | undefined;

/**
 * The scheduled handler that redrives one consumer's failure queue (EventBridge schedule from the
 * manifest's `redrive`). It ends with an error when a batch failed again, so the function's Errors
 * metric (and its alarm) counts redrives that did not get through.
 */
export function scheduledRedrive(consumer: StreamConsumerSpec, consumerHandler: StreamHandler) {
  return async (_event: unknown, context: Pick<Context, "getRemainingTimeInMillis">): Promise<RedriveSummary> => {
    const cfg = config();
    if (!cfg.failureQueueUrl) throw new Error("Invalid configuration: AGENTORG_FAILURE_QUEUE_URL must name the consumer's failure queue");
    clients ??= {
      sqs: new SQSClient({ region: cfg.region }),
      streams: new DynamoDBStreamsClient({ region: cfg.region, ...(cfg.dynamoDbEndpoint ? { endpoint: cfg.dynamoDbEndpoint } : {}) }),
    };
    const redrive = createStreamRedrive({
      consumer,
      handler: consumerHandler,
      queue: createSqsFailureQueue({ client: clients.sqs, queueUrl: cfg.failureQueueUrl }),
      readRange: createShardRangeReader({ client: clients.streams, region: cfg.region }),
      losses: streamLosses(),
      log: (level, message, details) => logger[level](message, details),
    });
    const summary = await redrive.run(() => context.getRemainingTimeInMillis());
    logger.info("redrive finished", { consumer: consumer.name, ...summary });
    if (summary.failed > 0) throw new Error(`${summary.failed} failed batch(es) of ${consumer.name} could not be replayed yet; they are retried on later runs`);
    return summary;
  };
}
