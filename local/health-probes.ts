import { registerHealthProbe } from "../functions/lib/health";
import type { DynamoDbLocal } from "./dynamodb";
import type { StreamPollerStatus } from "./stream-poller";

/** Poll failures in a row that make the poller `down`: one is a hiccup (a slow answer under load). */
const STALLED_AFTER_FAILURES = 3;

/**
 * The local runtime's own /health checks: the DynamoDB Local process (the supervisor's view) and,
 * when consumers run, the stream poller. Returns their removal (the platform's stop).
 */
export function registerLocalProbes({ dynamoDb, poller }: { dynamoDb: DynamoDbLocal; poller?: { status(): StreamPollerStatus } }): () => void {
  const removals = [
    registerHealthProbe("dynamodb-local", () => {
      const s = dynamoDb.status();
      return {
        status: s.state === "up" ? "up" : "down",
        ...(s.state === "up" ? {} : { detail: s.state === "restarting" ? "exited; restarting" : `${s.state}: restart the platform` }),
        info: { state: s.state, pid: s.pid, restarts: s.restarts, lastExitAt: s.lastExitAt, lastExit: s.lastExit },
      };
    }),
  ];
  if (poller) {
    removals.push(
      registerHealthProbe("stream-poller", () => {
        const p = poller.status();
        const stalled = p.consecutiveFailures >= STALLED_AFTER_FAILURES;
        const detail = !p.running
          ? "not running"
          : stalled
            ? "the stream does not answer"
            : p.parkedRecords > 0
              ? `${p.parkedRecords} parked records waiting to be replayed`
              : undefined;
        return {
          status: !p.running || stalled ? "down" : p.parkedRecords > 0 ? "degraded" : "up",
          ...(detail ? { detail } : {}),
          info: { running: p.running, lastSuccessfulPollAt: p.lastSuccessfulPollAt, consecutiveFailures: p.consecutiveFailures, parkedRecords: p.parkedRecords },
        };
      }),
    );
  }
  return () => removals.forEach((remove) => remove());
}
