/** A live WebSocket connection of a tenant. */
export interface Connection {
  connectionId: string;
  orgId: string;
  /** "operator" or "key:<keyId>" (later: the subject of a short-lived token). */
  actor: string;
  /** The API key the connection acts for (also in `actor`); revoking that key closes the connection. */
  keyId?: string;
  connectedAt: string;
  /** Organization event topics the connection subscribed to. */
  topics: string[];
}

export interface ConnectionStore {
  /** Recorded with a TTL slightly above API Gateway's 2-hour connection limit, so leftovers expire. */
  put(connection: Connection): Promise<void>;
  /** By id alone: `$disconnect` and route events carry nothing else. */
  find(connectionId: string): Promise<Connection | undefined>;
  /** Forgets a connection; `orgId`, when known, saves looking it up by id. */
  remove(connectionId: string, orgId?: string): Promise<void>;
  /**
   * Changes the topics of a connection that still exists (an update of that attribute only: a
   * connection removed meanwhile is not brought back). False when it is gone.
   */
  setTopics(connectionId: string, orgId: string, topics: string[]): Promise<boolean>;
  listByOrg(orgId: string): Promise<Connection[]>;
}

/** Sends frames to connections (adapter: the API Gateway Management API, real or local). */
export interface ConnectionPusher {
  /** Resolves false when the connection is gone (410), true when sent. */
  post(connectionId: string, frame: unknown): Promise<boolean>;
  /** Closes the connection (`DELETE @connections/{id}`); false when it was gone already. */
  disconnect(connectionId: string): Promise<boolean>;
}
