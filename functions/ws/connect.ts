import { forbidden, unauthorized } from "../../core/errors";
import { actorOf } from "../../core/auth/principal";
import { services, wsHandler } from "../lib/ws";

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
  if (token !== undefined || !authorization) {
    ({ orgId, actor, keyId } = await services().wsTokens.redeem(token));
  } else {
    const principal = await services().authenticate(authorization);
    if (principal.kind !== "org") throw forbidden("WebSocket connections belong to an organization: use its API key.", "org_key_required");
    orgId = principal.orgId;
    keyId = principal.keyId;
    actor = actorOf(principal);
  }
  await services().connections.put({ connectionId, orgId, actor, keyId, connectedAt: new Date().toISOString(), topics: [] });
  // A revocation that landed between the check above and this record could not see the connection to
  // close it: check again now that it is recorded (uncached), and refuse the socket if so.
  services().credentials.forget(orgId, keyId);
  if (!(await services().credentials.stillValid(orgId, keyId))) {
    await services().connections.remove(connectionId, orgId);
    throw unauthorized("The key was revoked or its organization closed.", "credentials_revoked");
  }
  return { statusCode: 200 };
});
