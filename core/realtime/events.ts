/**
 * Organization events pushed in real time to WebSocket subscribers (`subscribe` action) as frames
 * `{ type: "event", event }`. Topics: "messages", "tickets", "usage" (the part before the dot).
 */
export interface OrgEvent {
  /** `<topic>.<what>`: "ticket.created", "ticket.transitioned", "ticket.breached", "message.created", "usage.updated". */
  type: string;
  orgId: string;
  time: string;
  data: Record<string, unknown>;
}

export const topicOf = (event: Pick<OrgEvent, "type">): string => {
  const topic = event.type.split(".")[0] ?? event.type;
  // "ticket.created" belongs to the "tickets" topic, "message.created" to "messages".
  return topic.endsWith("s") ? topic : `${topic}s`;
};

/** Publishes an event to the organization's subscribers. Best effort: a failed push never fails the change. */
export interface EventPublisher {
  publish(event: OrgEvent): Promise<void>;
}

/** A publisher that drops events (unit tests, scripts). */
export const noEvents: EventPublisher = { publish: async () => undefined };
