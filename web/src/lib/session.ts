import type { Organization } from "../../../core/tenants/organization.schema";
import { api, ApiError, useKey } from "./client";

/** Who is signed in: the platform operator, or one organization through one of its keys. */
export interface Session {
  key: string;
  role: "operator" | "org";
  /** The organization of an organization key. */
  org: Organization | null;
  /** The key's id (organization keys), to recognise this browser's own channel messages. */
  keyId: string | null;
}

const STORAGE = "agentorg.key";
/** The documented organization key format: ao_<orgId>_<keyId>_<secret>. */
const ORG_KEY = /^ao_([0-9a-z]{26})_([0-9a-z]{26})_/;

/** What a person sees when the API refuses the key. */
export const BAD_KEY_MESSAGE = "This key was not accepted. Check that you pasted all of it; it may also have been revoked, or its organization closed.";

/**
 * Checks a key against the API and tells operator from organization. Only calls the key may make, so a
 * good key never causes an error response (nor a console error in the browser).
 */
export async function signIn(rawKey: string): Promise<Session> {
  const key = rawKey.trim();
  if (!key) throw new Error("Paste an organization API key or the operator key.");
  try {
    const orgKey = ORG_KEY.exec(key);
    if (orgKey) {
      const org = await api<Organization>(`/organizations/${orgKey[1]}`, { key });
      return remember({ key, role: "org", org, keyId: orgKey[2]! });
    }
    await api("/routing/global-stats", { key });
    return remember({ key, role: "operator", org: null, keyId: null });
  } catch (error) {
    if (error instanceof ApiError && (error.status === 401 || error.status === 404)) throw new Error(BAD_KEY_MESSAGE);
    if (error instanceof ApiError && error.status === 403) {
      // Not the operator, and not a key of the documented shape: ask the API which organization it is.
      const page = await api<{ items: Organization[] }>("/organizations", { key });
      const org = page.items[0];
      if (!org) throw new Error(BAD_KEY_MESSAGE);
      return remember({ key, role: "org", org, keyId: null });
    }
    throw error;
  }
}

function remember(session: Session): Session {
  // sessionStorage: the key lives as long as this browser tab, never on disk across sessions.
  sessionStorage.setItem(STORAGE, session.key);
  useKey(session.key);
  return session;
}

/** The key kept for this tab, if any (checked again with {@link signIn} on load). */
export const storedKey = (): string | null => sessionStorage.getItem(STORAGE);

export function signOut(): void {
  sessionStorage.removeItem(STORAGE);
  useKey(null);
}
