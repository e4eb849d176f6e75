import type { ConnectionPusher, ConnectionStore, Connection } from "./ports";

/** Connections closed at once, at most; an organization may hold many. */
const DISCONNECT_CONCURRENCY = 16;

/** The key a connection acts for: recorded since revocation reached WebSockets, else parsed from `actor`. */
export const keyIdOf = (connection: Pick<Connection, "keyId" | "actor">): string | undefined =>
  connection.keyId ?? (connection.actor.startsWith("key:") ? connection.actor.slice(4) : undefined);

export interface SessionsDeps {
  connections: Pick<ConnectionStore, "listByOrg" | "remove">;
  pusher: () => Pick<ConnectionPusher, "disconnect">;
}

/**
 * Ends the WebSocket sessions of revoked credentials: every open connection of an organization (when it
 * is closed), or of one of its keys (when that key is revoked), is closed through the @connections API
 * and forgotten. Idempotent: a connection that is gone already counts as ended.
 */
export function createSessions({ connections, pusher }: SessionsDeps) {
  return {
    /** Closes the organization's connections, or only those of `keyId`; resolves with how many were open. */
    async end(orgId: string, keyId?: string): Promise<number> {
      const targets = (await connections.listByOrg(orgId)).filter((c) => keyId === undefined || keyIdOf(c) === keyId);
      if (!targets.length) return 0;
      const api = pusher();
      let next = 0;
      const lanes = Array.from({ length: Math.min(DISCONNECT_CONCURRENCY, targets.length) }, async () => {
        while (next < targets.length) {
          const connection = targets[next++]!;
          await api.disconnect(connection.connectionId);
          await connections.remove(connection.connectionId, orgId);
        }
      });
      await Promise.all(lanes);
      return targets.length;
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

/** A table change, as the stream shows it (images unmarshalled). */
export interface ItemChange {
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
}

/**
 * The revocation a table change makes, if any: an API key that became revoked (its sessions end), or an
 * organization that became closed (all its sessions end). Only the change that revokes counts, so later
 * edits of a revoked key cost nothing.
 */
export function revocationOf({ oldImage, newImage }: ItemChange): { orgId: string; keyId?: string } | null {
  if (!newImage || typeof newImage.orgId !== "string") return null;
  if (newImage.entity === "apiKey" && newImage.revokedAt && !oldImage?.revokedAt && typeof newImage.id === "string") {
    return { orgId: newImage.orgId, keyId: newImage.id };
  }
  if (newImage.entity === "organization" && newImage.status === "closed" && oldImage?.status !== "closed") {
    return { orgId: newImage.orgId };
  }
  return null;
}
