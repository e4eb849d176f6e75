import { createDocumentClient } from "../../core/db/client";
import { createCursorCodec } from "../../core/db/cursor";
import { createApiKeyStore } from "../../core/db/api-key.repository";
import { createConnectionStore } from "../../core/db/connection.repository";
import { createOrganizationStore } from "../../core/db/organization.repository";
import { createUsageStore } from "../../core/db/usage.repository";
import { createApiKeys, createAuthenticator, createCredentialCheck, createIdentifier } from "../../core/tenants/api-keys";
import { createSessions } from "../../core/realtime/sessions";
import { createRateLimitStore } from "../../core/db/rate-limit.repository";
import { createRateLimiter } from "../../core/ratelimit/limiter";
import { createRateLimits } from "../../core/ratelimit/rate-limits";
import { createOrganizations } from "../../core/tenants/organizations";
import { createMeteringStore, createRoutingSettingsStore } from "../../core/db/metering.repository";
import { createChatService } from "../../core/chat/chat-service";
import { createCatalog, type EndpointSettings } from "../../core/models/catalog";
import { createOfflineProvider } from "../../core/models/offline-provider";
import { createOpenAiProvider } from "../../core/models/openai-provider";
import { classifier } from "../../core/routing/classifier";
import { createAuditKeyRegistry, createAuditStore, createStreamLossLog } from "../../core/db/audit.repository";
import { auditConsumer as auditConsumerSpec } from "../manifest/audit";
import { createAuditConsumer, type AuditConsumer } from "../../core/audit/audit-consumer";
import { createAuditLog } from "../../core/audit/audit-log";
import { loadAuditSigningKey, readSecureParameter } from "./audit-key";
import { logger } from "./logger";
import { createAgentRepositories } from "../../core/db/agent.repository";
import { createAgentService } from "../../core/agents/agent-service";
import { createAgentRuntime } from "../../core/agents/runtime";
import { createWsTokenStore } from "../../core/db/ws-token.repository";
import { createWsTokens } from "../../core/realtime/ws-tokens";
import { createEventPublisher } from "./events";
import type { AgentTool, ToolContext } from "../../core/agents/tools";
import { createPusher, managementEndpoint } from "./connections";
import { config, resetConfig } from "./config";
import { createTicketSettingsStore, createTicketStore } from "../../core/db/ticket.repository";
import { createTablePing } from "../../core/db/health.repository";
import { createTicketService } from "../../core/tickets/ticket-service";
import { createItsmTools } from "../../core/tickets/itsm-tools";

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
  const options = { client, table: cfg.tableName, cursors: createCursorCodec(cfg.cursorSecret) };
  const orgStore = createOrganizationStore(options);
  const keyStore = createApiKeyStore(options);
  // Keys known valid, for at most CREDENTIAL_CHECK_TTL_MS (HTTP, WebSocket frames, tokens alike).
  const credentials = createCredentialCheck({ keys: keyStore, orgs: orgStore });
  // One limiter per warm instance: its deny cache and leases live as long as the instance (core/ratelimit/limiter.ts).
  const rateLimits = createRateLimits({ limiter: createRateLimiter({ store: createRateLimitStore(options) }), orgs: orgStore, credentials });
  const connections = createConnectionStore(options);
  // HTTP functions push through the configured @connections endpoint (AGENTORG_WS_ENDPOINT).
  const events = createEventPublisher({ connections, pusher: () => createPusher(managementEndpoint()) });
  const catalog = createCatalog(cfg.models);
  const provider = (endpoint: EndpointSettings) =>
    endpoint.baseURL
      ? createOpenAiProvider({
          ...endpoint,
          baseURL: endpoint.baseURL,
          timeoutMs: cfg.models.timeoutMs,
          maxRetries: cfg.models.maxRetries,
          ...(endpoint.apiKeyParameter ? { resolveApiKey: () => modelApiKey(endpoint.apiKeyParameter!, cfg.region) } : {}),
        })
      : createOfflineProvider();
  const metering = createMeteringStore(options);
  const chat = createChatService({
    catalog,
    providers: { slm: provider(cfg.models.slm), llm: provider(cfg.models.llm) },
    classifier,
    metering,
    settings: createRoutingSettingsStore(options),
    orgs: orgStore,
    events,
    limits: rateLimits,
  });
  const agentRepos = createAgentRepositories(options);
  const agents = createAgentService({ ...agentRepos, orgs: orgStore, events });
  const tickets = createTicketService({
    store: createTicketStore(options),
    orgs: orgStore,
    settings: createTicketSettingsStore(options),
    events,
    // Assignees must be agents of the organization; their role and level decide change authority.
    agents: {
      find: async (orgId, agentId) => {
        const agent = await agentRepos.agents.get(orgId, agentId);
        return agent && { id: agent.id, roleId: agent.roleId, level: agent.level };
      },
    },
  });
  /** Tools beyond the hierarchy's: the ITSM tools (the runtime offers each role only the tools it lists). */
  const itsmTools = createItsmTools({ tickets });
  const agentTools: { extra: (context: ToolContext) => AgentTool[] } = { extra: () => itsmTools };
  const runtime = createAgentRuntime({ chat, agents, store: agentRepos.agents, extraTools: (context) => agentTools.extra(context) });
  const auditStore = createAuditStore(options);

  // Revocation closes WebSocket sessions through the @connections API (AGENTORG_WS_ENDPOINT).
  const sessions = createSessions({ connections, pusher: () => createPusher(managementEndpoint()) });
  const auditKeys = createAuditKeyRegistry(options);
  const streamLosses = createStreamLossLog(options);
  let auditConsumer: Promise<AuditConsumer> | undefined;
  return {
    config: cfg,
    /** The audit log's read side (API). */
    audit: createAuditLog({
      store: auditStore,
      keys: auditKeys,
      orgs: orgStore,
      ...(cfg.audit.signingKey ? { signingKey: cfg.audit.signingKey } : {}),
      lostRanges: () => streamLosses.list(auditConsumerSpec.name),
    }),
    /** The audit log's writer (stream consumer); its signing key is loaded once, on first use. */
    auditConsumer: (): Promise<AuditConsumer> =>
      (auditConsumer ??= loadAuditSigningKey(cfg.audit, { region: cfg.region }).then((signingKey) =>
        createAuditConsumer({
          store: auditStore,
          keys: auditKeys,
          signingKey,
          checkpointEvery: cfg.audit.checkpointEvery,
          checkpointSeconds: cfg.audit.checkpointSeconds,
          log: (message, details) => logger.warn(message, details),
        }),
      )).catch((error: unknown) => {
        auditConsumer = undefined;
        throw error;
      }),
    catalog,
    chat,
    /** Budget reservations and counters (the reservation reconciler). */
    metering,
    client,
    events,
    agents,
    runtime,
    agentTools,
    wsTokens: createWsTokens({ store: createWsTokenStore(options), credentials }),
    authenticate: createAuthenticator({ keys: keyStore, orgs: orgStore, operatorKeySha256: cfg.operatorKeySha256, credentials }),
    /** Like `authenticate`, with the organization it read (its tier and rate limits). */
    identify: createIdentifier({ keys: keyStore, orgs: orgStore, operatorKeySha256: cfg.operatorKeySha256, credentials }),
    rateLimits,
    credentials,
    sessions,
    organizations: createOrganizations({ store: orgStore, usage: createUsageStore(options), sessions, credentials }),
    apiKeys: createApiKeys({ keys: keyStore, orgs: orgStore, sessions, credentials }),
    tickets,
    connections,
    /** Stream ranges lost by a consumer (recorded by the redrive of its failure queue). */
    streamLosses,
    /** /health's DynamoDB check. */
    pingTable: createTablePing(options),
  };
}

/**
 * A model endpoint's API key from its SSM SecureString (AWS). A parameter that does not exist means the
 * endpoint needs no key (a self-hosted Ollama or vLLM).
 */
async function modelApiKey(name: string, region: string): Promise<string | undefined> {
  try {
    return (await readSecureParameter(name, { region })).trim();
  } catch (error) {
    if (error instanceof Error && error.name === "ParameterNotFound") return undefined;
    throw error;
  }
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
