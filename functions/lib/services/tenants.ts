import { createUsageStore } from "../../../core/db/usage.repository";
import { createWsTokenStore } from "../../../core/db/ws-token.repository";
import { createWsTokens } from "../../../core/realtime/ws-tokens";
import { createApiKeys } from "../../../core/tenants/api-keys";
import { createOrganizations } from "../../../core/tenants/organizations";
import { access } from "./access";
import { lazy } from "./lazy";
import { realtime } from "./realtime";
import { table } from "./table";

/** Organizations and their API keys (closing one or revoking a key ends its WebSocket sessions). */
export const tenants = lazy(() => {
  const { orgStore, keyStore, credentials } = access();
  const { sessions } = realtime();
  return {
    organizations: createOrganizations({ store: orgStore, usage: createUsageStore(table().options), sessions, credentials }),
    apiKeys: createApiKeys({ keys: keyStore, orgs: orgStore, sessions, credentials }),
  };
});

/** Single-use WebSocket tokens. */
export const wsTokens = lazy(() => createWsTokens({ store: createWsTokenStore(table().options), credentials: access().credentials }));
