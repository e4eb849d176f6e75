import { forbidden } from "../errors";
import type { Principal } from "../auth/principal";
import type { MeteringStore, RoutingSettingsStore } from "../metering/ports";
import { type Clock, periodOf, systemClock } from "../shared/clock";
import type { RoutingSettings } from "./chat.schema";

const MICRO = 1_000_000;

export interface RoutingAdminDeps {
  metering: Pick<MeteringStore, "listRecords" | "globalStats">;
  settings: RoutingSettingsStore;
  clock?: Clock;
}

/**
 * The routing routes that call no model: an organization's routing settings (override, calibration),
 * its recent decisions and cost records, and the operator's totals across tenants. Apart from the chat
 * service so that the functions serving them load neither a model client nor the router's weights.
 */
export function createRoutingAdmin({ metering, settings, clock = systemClock }: RoutingAdminDeps) {
  return {
    async getSettings(principal: Principal): Promise<RoutingSettings> {
      return settings.get(orgOf(principal));
    },

    async putSettings(principal: Principal, next: RoutingSettings, actor: string): Promise<RoutingSettings> {
      // A threshold set here is the tenant's own: `source: "feedback"` is for calibrate-from-feedback to say.
      const override = next.override?.mode === "threshold" ? { mode: "threshold" as const, threshold: next.override.threshold } : (next.override ?? null);
      const normalized = { override, calibration: next.calibration ?? null };
      await settings.put(orgOf(principal), normalized, actor);
      return normalized;
    },

    /** The organization's recent routing decisions and cost records, newest first. */
    records: (principal: Principal, page: { limit: number; cursor?: string }) => metering.listRecords(orgOf(principal), page),

    /** Operator only: all tenants of the current period. */
    async globalStats(principal: Principal) {
      if (principal.kind !== "operator") throw forbidden("Global routing statistics are for the platform operator.", "operator_only");
      const stats = await metering.globalStats(periodOf(clock.now()));
      return {
        ...stats,
        costUsd: stats.costMicroUsd / MICRO,
        baselineUsd: stats.baselineMicroUsd / MICRO,
        savingsUsd: Math.max(0, stats.baselineMicroUsd - stats.costMicroUsd) / MICRO,
        slmShare: stats.queries ? stats.slmQueries / stats.queries : 0,
      };
    },
  };
}

export type RoutingAdmin = ReturnType<typeof createRoutingAdmin>;

function orgOf(principal: Principal): string {
  if (principal.kind !== "org") throw forbidden("Routing belongs to an organization: use its API key.", "org_key_required");
  return principal.orgId;
}
