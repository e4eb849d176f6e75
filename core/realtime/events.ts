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

const TOPICS: Record<string, string> = { ticket: "tickets", message: "messages", usage: "usage", channel: "channel" };

/** The subscription topic of an event: "ticket.created" belongs to "tickets", "message.created" to "messages". */
export const topicOf = (event: Pick<OrgEvent, "type">): string => {
  const prefix = event.type.split(".")[0] ?? event.type;
  return TOPICS[prefix] ?? prefix;
};

/** Publishes an event to the organization's subscribers. Best effort: a failed push never fails the change. */
export interface EventPublisher {
  publish(event: OrgEvent): Promise<void>;
  /**
   * A publisher for events of one organization that starts reading its subscribers now, so that read
   * runs alongside the request's other work instead of after it (one serial round trip less). For a
   * request that will publish once it is done; connections opened meanwhile miss that one event.
   */
  forOrg?(orgId: string): EventPublisher;
}

/** A publisher that drops events (unit tests, scripts). */
export const noEvents: EventPublisher = { publish: async () => undefined };

/** `events.forOrg(orgId)` where the publisher has it, else `events` itself. */
export const eventsFor = (events: EventPublisher, orgId: string): EventPublisher => events.forOrg?.(orgId) ?? events;
