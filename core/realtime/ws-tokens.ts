import { createHash, timingSafeEqual } from "node:crypto";
import { forbidden, unauthorized } from "../errors";
import { newId, randomHex } from "../ids";
import type { Principal } from "../auth/principal";
import { type Clock, systemClock } from "../shared/clock";

/** How long a WebSocket token is valid: enough to open a socket, short enough to be harmless if it leaks. */
export const WS_TOKEN_TTL_SECONDS = 300;

export interface WsTokenRecord {
  id: string;
  orgId: string;
  /** Whom the connection will act for: `key:<keyId>`. */
  actor: string;
  secretHash: string;
  expiresAt: string;
}

export interface WsTokenStore {
  put(token: WsTokenRecord): Promise<void>;
  get(orgId: string, id: string): Promise<WsTokenRecord | undefined>;
  /** Deletes the token; false if it was already used (a token opens one connection). */
  consume(orgId: string, id: string): Promise<boolean>;
}

const PATTERN = /^wst_([0-9a-z]{26})_([0-9a-z]{26})_([0-9a-f]{64})$/;
const sha256 = (v: string) => createHash("sha256").update(v).digest("hex");

/**
 * Short-lived, single-use tokens for opening a WebSocket (browsers cannot send an Authorization header
 * on a WebSocket, and an API key does not belong in a URL): `POST /api/v1/ws-tokens` with an API key,
 * then `wss://.../?token=...`.
 */
export interface WsTokensDeps {
  store: WsTokenStore;
  /** Whether the key that minted a token may still act: a token outlives neither its key nor its organization. */
  credentials: { stillValid(orgId: string, keyId: string): Promise<boolean> };
  clock?: Clock;
}

export function createWsTokens({ store, credentials, clock = systemClock }: WsTokensDeps) {
  return {
    async issue(principal: Principal): Promise<{ token: string; expiresAt: string }> {
      if (principal.kind !== "org") throw forbidden("WebSocket connections belong to an organization: use its API key.", "org_key_required");
      const id = newId();
      const token = `wst_${principal.orgId}_${id}_${randomHex(32)}`;
      const expiresAt = new Date(clock.now().getTime() + WS_TOKEN_TTL_SECONDS * 1000).toISOString();
      await store.put({ id, orgId: principal.orgId, actor: `key:${principal.keyId}`, secretHash: sha256(token), expiresAt });
      return { token, expiresAt };
    },

    /**
     * Checks and uses up a token; every failure is the same 401: malformed, unknown, expired, used, or
     * minted by a key that has been revoked since (or whose organization was closed).
     */
    async redeem(token: string | undefined): Promise<{ orgId: string; actor: string; keyId: string }> {
      const parts = PATTERN.exec(token ?? "");
      if (!parts) throw unauthorized("A valid WebSocket token is required (?token=..., from POST /api/v1/ws-tokens).", "invalid_ws_token");
      const [, orgId, id] = parts as unknown as [string, string, string];
      const record = await store.get(orgId, id);
      const hash = sha256(token!);
      const valid =
        record &&
        timingSafeEqual(Buffer.from(hash, "hex"), Buffer.from(record.secretHash, "hex")) &&
        Date.parse(record.expiresAt) > clock.now().getTime() &&
        (await store.consume(orgId, id));
      const keyId = record?.actor.startsWith("key:") ? record.actor.slice(4) : "";
      if (!valid || !keyId || !(await credentials.stillValid(orgId, keyId))) {
        throw unauthorized("The WebSocket token is invalid, expired or already used.", "invalid_ws_token");
      }
      return { orgId: record!.orgId, actor: record!.actor, keyId };
    },
  };
}
