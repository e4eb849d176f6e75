import { forbidden, notFound } from "../errors";
import type { Principal } from "../auth/principal";
import type { FeedbackStore, RoutingFeedback } from "../metering/ports";
import { type Clock, systemClock } from "../shared/clock";
import type { Page } from "../tenants/ports";
import { COMPLETION_ID, type Feedback, type FeedbackRequest } from "./feedback.schema";

export interface RoutingFeedbackDeps {
  feedback: FeedbackStore;
  clock?: Clock;
}

/**
 * A tenant's own evidence on routing: feedback on its completions (thumbs up or down, "this needed the
 * large model"), kept per organization beside the decision it rates. The calibration computed from it
 * is core/chat/feedback-calibrator.ts (apart, because it needs the router's calibration curve).
 */
export function createRoutingFeedback({ feedback, clock = systemClock }: RoutingFeedbackDeps) {
  return {
    /**
     * Records the organization's feedback on one of its completions. The decision it rates (score,
     * threshold, tier) is read from the completion's cost record, never taken from the request; a
     * completion of another organization, or none, is 404.
     */
    async submit(principal: Principal, completionId: string, body: FeedbackRequest, actor: string): Promise<Feedback & { changed: boolean }> {
      const orgId = tenantOrg(principal);
      const recordId = COMPLETION_ID.exec(completionId)?.[1];
      const record = recordId ? await feedback.decision(orgId, recordId) : undefined;
      if (!recordId || !record) throw notFound("Completion", completionId);
      const { changed, stored } = await feedback.put({
        id: completionId,
        recordId,
        orgId,
        rating: body.rating,
        neededLargeModel: body.neededLargeModel ?? null,
        comment: body.comment ?? null,
        decision: { time: record.time, model: record.model, tier: record.tier, score: record.score, threshold: record.threshold, reason: record.reason.code },
        time: clock.now().toISOString(),
        updatedBy: actor,
      });
      return { ...publicView(stored), changed };
    },

    /** The organization's feedback, newest completion first. */
    async list(principal: Principal, page: { limit: number; cursor?: string }): Promise<Page<Feedback>> {
      const result = await feedback.list(tenantOrg(principal), page);
      return { ...result, items: result.items.map(publicView) };
    },
  };
}

export type RoutingFeedbackService = ReturnType<typeof createRoutingFeedback>;

/** A stored feedback as the API shows it (without the keys' copies of the ids). */
export const publicView = (f: RoutingFeedback): Feedback => ({
  id: f.id,
  rating: f.rating,
  neededLargeModel: f.neededLargeModel,
  comment: f.comment,
  decision: f.decision,
  time: f.time,
  updatedBy: f.updatedBy,
});

/** The organization of a feedback request: an organization key's own (the operator has none). */
export function tenantOrg(principal: Principal): string {
  if (principal.kind !== "org") throw forbidden("Routing feedback belongs to an organization: use its API key.", "org_key_required");
  return principal.orgId;
}
