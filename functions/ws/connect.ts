import { forbidden, unauthorized } from "../../core/errors";
import { actorOf } from "../../core/auth/principal";
import type { Organization } from "../../core/tenants/organization.schema";
import { access } from "../lib/services/access";
import { realtime } from "../lib/services/realtime";
import { wsTokens } from "../lib/services/tenants";
import { wsHandler } from "../lib/ws";

/**
 * `$connect`: authenticate and record the connection. Browsers pass a short-lived token
 * (`?token=` from POST /api/v1/ws-tokens); server clients may send their organization API key as
 * `Authorization: Bearer`. Refusing here (401/403) means the socket never opens.
 */
export const handler = wsHandler(async ({ event, connectionId }) => {
  const token = event.queryStringParameters?.token;
  const authorization = event.headers?.authorization ?? event.headers?.Authorization;
  let orgId: string;
  let actor: string;
  let keyId: string;
  let org: Organization | undefined;
  if (token !== undefined || !authorization) {
    ({ orgId, actor, keyId } = await wsTokens().redeem(token));
    org = await access().credentials.validOrg(orgId, keyId);
    if (!org) throw unauthorized("The key was revoked or its organization closed.", "credentials_revoked");
  } else {
    const identified = await access().identify(authorization);
    const principal = identified.principal;
    if (principal.kind !== "org") throw forbidden("WebSocket connections belong to an organization: use its API key.", "org_key_required");
    orgId = principal.orgId;
    keyId = principal.keyId;
    actor = actorOf(principal);
    org = identified.org;
  }
  // A connection attempt counts like a request of its key, once it is authenticated (an attempt
  // cannot be charged to an organization before: anyone could name one). Refused: 429, no socket.
  await access().rateLimits.admitRequest({ kind: "org", orgId, keyId }, org);
  await realtime().connections.put({ connectionId, orgId, actor, keyId, connectedAt: new Date().toISOString(), topics: [] });
  // A revocation that landed between the check above and this record could not see the connection to
  // close it: check again now that it is recorded (uncached), and refuse the socket if so.
  access().credentials.forget(orgId, keyId);
  if (!(await access().credentials.stillValid(orgId, keyId))) {
    await realtime().connections.remove(connectionId, orgId);
    throw unauthorized("The key was revoked or its organization closed.", "credentials_revoked");
  }
  return { statusCode: 200 };
});
