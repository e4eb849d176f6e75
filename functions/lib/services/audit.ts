import { createAuditConsumer, type AuditConsumer } from "../../../core/audit/audit-consumer";
import { createActorNames } from "../../../core/audit/actor-names";
import { createAuditLog } from "../../../core/audit/audit-log";
import { createAgentStore } from "../../../core/db/agent.repository";
import { createAuditKeyRegistry, createAuditStore, createStreamLossLog } from "../../../core/db/audit.repository";
import { auditConsumer as auditConsumerSpec } from "../../manifest/audit";
import { loadAuditSigningKey } from "../audit-key";
import { logger } from "../logger";
import { access } from "./access";
import { lazy } from "./lazy";
import { table } from "./table";

const stores = lazy(() => {
  const { options } = table();
  return { store: createAuditStore(options), keys: createAuditKeyRegistry(options), losses: createStreamLossLog(options) };
});

/** Stream ranges lost by a consumer (recorded by the redrive of its failure queue). */
export const streamLosses = () => stores().losses;

/** The audit log's read side (API). */
export const auditLog = lazy(() => {
  const { config: cfg } = table();
  const { store, keys, losses } = stores();
  return createAuditLog({
    store,
    keys,
    orgs: access().orgStore,
    ...(cfg.audit.signingKey ? { signingKey: cfg.audit.signingKey } : {}),
    lostRanges: () => losses.list(auditConsumerSpec.name),
    actorNames: createActorNames({ keys: access().keyStore, agents: createAgentStore(table().options) }),
  });
});

/** The consumer being built (its signing key loads once); reset by a cold start. */
const consumerSlot = lazy(() => ({ pending: undefined as Promise<AuditConsumer> | undefined }));

/** The audit log's writer (stream consumer); its signing key is loaded once, on first use. */
export function auditConsumer(): Promise<AuditConsumer> {
  const slot = consumerSlot();
  const { config: cfg } = table();
  const { store, keys } = stores();
  return (slot.pending ??= loadAuditSigningKey(cfg.audit, { region: cfg.region })
    .then((signingKey) =>
      createAuditConsumer({
        store,
        keys,
        signingKey,
        checkpointEvery: cfg.audit.checkpointEvery,
        checkpointSeconds: cfg.audit.checkpointSeconds,
        log: (message, details) => logger.warn(message, details),
      }),
    )
    .catch((error: unknown) => {
      slot.pending = undefined;
      throw error;
    }));
}
