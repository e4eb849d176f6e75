import { conflict, notFound } from "../errors";
import type { Principal } from "../auth/principal";
import type { FeedbackStore, MeteringStore, RoutingFeedback, RoutingSettingsStore, UsageRecord } from "../metering/ports";
import { calibrateFromFeedback, MIN_FEEDBACK, type FeedbackSample } from "../routing/feedback-calibration";
import { decide, type Industry } from "../routing/policy";
import type { OrganizationStore, Page } from "../tenants/ports";
import type { RoutingSettings } from "./chat.schema";
import type { FeedbackCalibrationReport, RoutingSettingsOf } from "./feedback.schema";
import { tenantOrg } from "./routing-feedback";

/** Feedback items a calibration reads, newest completions first. */
export const CALIBRATION_FEEDBACK_LIMIT = 500;
/** Recent decisions a calibration report replays under the new threshold. */
export const CALIBRATION_DECISIONS_LIMIT = 500;
/** Page size of those reads (the largest a page may be). */
const PAGE = 100;

export interface FeedbackCalibratorDeps {
  feedback: Pick<FeedbackStore, "list">;
  metering: Pick<MeteringStore, "listRecords">;
  settings: RoutingSettingsStore;
  orgs: Pick<OrganizationStore, "get">;
}

/**
 * The threshold calibration from a tenant's feedback (the rule: core/routing/feedback-calibration.ts).
 * It loads the routing policy, hence the router's calibration curve (weights.json): the threshold in
 * force may come from a calibration target read off that curve.
 */
export function createFeedbackCalibrator({ feedback, metering, settings, orgs }: FeedbackCalibratorDeps) {
  return {
    /**
     * The threshold the organization's recent feedback calls for, with a report of how much it moved
     * and how many recent decisions would now go to the other tier; unless `dryRun`, stored as the
     * organization's threshold override with `source: "feedback"` (conditionally: settings changed
     * meanwhile are 409 `routing_settings_changed`). Routing off (a fixed tier) is 409
     * `routing_fixed_tier`: there is no threshold to calibrate.
     */
    async calibrate(principal: Principal, options: { dryRun?: boolean }, actor: string): Promise<FeedbackCalibrationReport> {
      const orgId = tenantOrg(principal);
      const [org, current, items, records] = await Promise.all([
        orgs.get(orgId),
        settings.read(orgId),
        firstItems(CALIBRATION_FEEDBACK_LIMIT, (page) => feedback.list(orgId, page)),
        firstItems(CALIBRATION_DECISIONS_LIMIT, (page) => metering.listRecords(orgId, page)),
      ]);
      if (!org) throw notFound("Organization", orgId);
      const { override, calibration } = current.settings;
      if (override?.mode === "fixed") {
        throw conflict(`Routing is off (every query goes to the ${override.tier}): there is no threshold to calibrate. Remove the override first.`, "routing_fixed_tier");
      }
      const before = thresholdInForce(org.industry, current.settings);
      const result = calibrateFromFeedback(items.map(sampleOf), before);
      const after = result.threshold;

      const dryRun = options.dryRun === true;
      const applied = !dryRun && result.outcome === "moved";
      const next: RoutingSettingsOf = applied
        ? { override: { mode: "threshold", threshold: after, source: "feedback" }, calibration: calibration ?? null }
        : { override: override ?? null, calibration: calibration ?? null };
      if (applied) await settings.replace(orgId, next, actor, current.revision);

      // Decisions routed by a threshold (not a pinned model, not routing off), replayed under both.
      const routed = records.filter((r): r is UsageRecord & { score: number } => r.score !== null && r.threshold !== null);
      const changed = routed.filter((r) => r.score >= before !== r.score >= after).length;
      return {
        dryRun,
        applied,
        outcome: result.outcome,
        feedback: { total: items.length, counted: result.counted, minimum: MIN_FEEDBACK, byTier: countByTier(items) },
        threshold: { before, after, moved: result.moved, estimate: result.estimate },
        decisions: { considered: routed.length, changed, changedShare: routed.length ? changed / routed.length : 0 },
        settings: next,
      };
    },
  };
}

export type FeedbackCalibrator = ReturnType<typeof createFeedbackCalibrator>;

/** Up to `max` items of a paged list, a page at a time (bounded: `max / PAGE` reads at most). */
async function firstItems<T>(max: number, read: (page: { limit: number; cursor?: string }) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < Math.ceil(max / PAGE); pages++) {
    const page = await read({ limit: Math.min(PAGE, max - items.length), ...(cursor ? { cursor } : {}) });
    items.push(...page.items);
    cursor = page.cursor;
    if (!cursor || items.length >= max) break;
  }
  return items.slice(0, max);
}

/** The threshold the policy applies for these settings (a fixed tier is refused before this). */
function thresholdInForce(industry: Industry, { override, calibration }: RoutingSettings): number {
  const decision = decide({ score: 0, industry, ...(override ? { override } : {}), ...(!override && calibration ? { calibration } : {}) });
  return decision.threshold!;
}

const sampleOf = (f: RoutingFeedback): FeedbackSample => ({
  score: f.decision.score,
  tier: f.decision.tier,
  rating: f.rating,
  ...(f.neededLargeModel !== null ? { neededLargeModel: f.neededLargeModel } : {}),
});

function countByTier(items: readonly RoutingFeedback[]) {
  const zero = () => ({ up: 0, down: 0, neededLargeModel: 0 });
  const byTier = { slm: zero(), llm: zero() };
  for (const f of items) {
    const counts = byTier[f.decision.tier];
    counts[f.rating] += 1;
    if (f.neededLargeModel === true) counts.neededLargeModel += 1;
  }
  return byTier;
}
