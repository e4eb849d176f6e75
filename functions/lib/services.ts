import { createDocumentClient } from "../../core/db/client";
import { createApiKeyStore } from "../../core/db/api-key.repository";
import { createConnectionStore } from "../../core/db/connection.repository";
import { createOrganizationStore } from "../../core/db/organization.repository";
import { createUsageStore } from "../../core/db/usage.repository";
import { createApiKeys, createAuthenticator } from "../../core/tenants/api-keys";
import { createOrganizations } from "../../core/tenants/organizations";
import { createMeteringStore, createRoutingSettingsStore } from "../../core/db/metering.repository";
import { createChatService } from "../../core/chat/chat-service";
import { createCatalog, type EndpointSettings } from "../../core/models/catalog";
import { createOfflineProvider } from "../../core/models/offline-provider";
import { createOpenAiProvider } from "../../core/models/openai-provider";
import { classifier } from "../../core/routing/classifier";
import { config, resetConfig } from "./config";

/**
 * The composition root: adapters and use cases wired once per warm function instance (cold start),
 * then reused by every invocation.
 */
function build() {
  const cfg = config();
  const client = createDocumentClient({
    region: cfg.region,
    ...(cfg.dynamoDbEndpoint ? { endpoint: cfg.dynamoDbEndpoint } : {}),
  });
  const options = { client, table: cfg.tableName };
  const orgStore = createOrganizationStore(options);
  const keyStore = createApiKeyStore(options);
  const catalog = createCatalog(cfg.models);
  const provider = (endpoint: EndpointSettings) =>
    endpoint.baseURL
      ? createOpenAiProvider({ ...endpoint, baseURL: endpoint.baseURL, timeoutMs: cfg.models.timeoutMs, maxRetries: cfg.models.maxRetries })
      : createOfflineProvider();
  const chat = createChatService({
    catalog,
    providers: { slm: provider(cfg.models.slm), llm: provider(cfg.models.llm) },
    classifier,
    metering: createMeteringStore(options),
    settings: createRoutingSettingsStore(options),
    orgs: orgStore,
  });
  return {
    config: cfg,
    catalog,
    chat,
    client,
    authenticate: createAuthenticator({ keys: keyStore, orgs: orgStore, operatorKeySha256: cfg.operatorKeySha256 }),
    organizations: createOrganizations({ store: orgStore, usage: createUsageStore(options) }),
    apiKeys: createApiKeys({ keys: keyStore, orgs: orgStore }),
    connections: createConnectionStore(options),
  };
}

let cached: ReturnType<typeof build> | undefined;
export const services = () => (cached ??= build());

/**
 * A fresh cold start for the next invocation: the local runtime calls this after it sets the
 * functions' environment (a platform restarted in the same process gets a new DynamoDB endpoint).
 */
export function coldStart(): void {
  cached?.client.destroy();
  cached = undefined;
  resetConfig();
}
