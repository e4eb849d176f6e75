import { GetCommand } from "@aws-sdk/lib-dynamodb";
import type { UsageCounters, UsageStore } from "../tenants/ports";
import { keys } from "./keys";
import { MODEL_COUNTER_PREFIX } from "./usage-counters";
import type { RepositoryOptions } from "./organization.repository";

const ZERO: UsageCounters = {
  agents: 0,
  tickets: 0,
  queries: 0,
  slmQueries: 0,
  llmQueries: 0,
  inputTokens: 0,
  outputTokens: 0,
  costMicroUsd: 0,
  llmBaselineMicroUsd: 0,
  offlineQueries: 0,
  fallbacks: 0,
  models: {},
};

const num = (value: unknown): number => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/**
 * Reads the counters kept by quota and metering code (written through core/db/usage-counters.ts): the
 * period's usage item and the agents counter.
 * Missing items mean nothing was used yet.
 */
export function createUsageStore({ client, table }: RepositoryOptions): UsageStore {
  return {
    async get(orgId, period) {
      const get = (key: { pk: string; sk: string }) =>
        client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true })).then((r) => r.Item ?? {});
      const [usage, agents] = await Promise.all([get(keys.usage(orgId, period)), get(keys.counter(orgId, "agents"))]);
      const counters: UsageCounters = { ...ZERO, models: {} };
      for (const name of Object.keys(ZERO) as (keyof UsageCounters)[]) if (name !== "models") counters[name] = num(usage[name]);
      for (const [name, value] of Object.entries(usage)) if (name.startsWith(MODEL_COUNTER_PREFIX)) counters.models[name.slice(MODEL_COUNTER_PREFIX.length)] = num(value);
      counters.agents = num(agents.count);
      return counters;
    },
  };
}
