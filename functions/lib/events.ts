import type { Connection, ConnectionPusher, ConnectionStore } from "../../core/realtime/ports";
import { type EventPublisher, type OrgEvent, topicOf } from "../../core/realtime/events";
import { logger } from "./logger";

/** Posts to many connections at once, but never more than this many in flight. */
export const FANOUT_CONCURRENCY = 32;

/** Runs `work` over `items` with at most `limit` in flight. */
export async function boundedAll<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await work(items[next++]!);
  });
  await Promise.all(lanes);
}

/**
 * Pushes organization events to the WebSocket connections that subscribed to their topic, through the
 * @connections API; a connection that is gone (410) is forgotten on its first failed post. Best
 * effort: a push failure is logged, never raised into the change that caused the event.
 */
export function createEventPublisher({ connections, pusher }: { connections: ConnectionStore; pusher: () => ConnectionPusher }): EventPublisher {
  const publishTo = async (event: OrgEvent, audience: Promise<Connection[]>) => {
    try {
      const topic = topicOf(event);
      const targets = (await audience).filter((c) => c.topics.includes(topic) || c.topics.includes("*"));
      if (!targets.length) return;
      const post = pusher();
      await boundedAll(targets, FANOUT_CONCURRENCY, async (connection) => {
        try {
          if (!(await post.post(connection.connectionId, { type: "event", event }))) await connections.remove(connection.connectionId, event.orgId);
        } catch (error) {
          logger.warn("event push failed", { connectionId: connection.connectionId, error: String(error) });
        }
      });
    } catch (error) {
      logger.warn("event publish failed", { type: event.type, error: String(error) });
    }
  };
  return {
    publish: (event) => publishTo(event, connections.listByOrg(event.orgId)),
    forOrg(orgId) {
      const audience = connections.listByOrg(orgId);
      // Read now; a failure is the publish's to log (and an unused read must not be an unhandled rejection).
      audience.catch(() => undefined);
      return { publish: (event) => (event.orgId === orgId ? publishTo(event, audience) : publishTo(event, connections.listByOrg(event.orgId))) };
    },
  };
}
