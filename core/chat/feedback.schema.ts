import { z } from "../shared/zod";
import { RoutingSettings } from "./chat.schema";

/** A completion's id as the chat route gives it: `chatcmpl-` and its cost record's id (a ULID). */
export const COMPLETION_ID = /^chatcmpl-([0-9a-hjkmnp-tv-z]{26})$/;

/** Routing settings as stored and reported (both members present). */
export type RoutingSettingsOf = { override: NonNullable<RoutingSettings["override"]> | null; calibration: NonNullable<RoutingSettings["calibration"]> | null };

/** Longest feedback comment kept (characters): enough for a sentence or two, bounded for the item and the audit log. */
export const MAX_FEEDBACK_COMMENT = 1000;

/** A tenant's feedback on one completion. The decision it rates is read from the completion's cost record. */
export const FeedbackRequest = z
  .strictObject({
    rating: z.enum(["up", "down"]).meta({ description: "Thumbs up or down on the answer" }),
    neededLargeModel: z
      .boolean()
      .optional()
      .meta({ description: "true: the query needed the large model; false: the small model would have done (either answer)" }),
    comment: z.string().max(MAX_FEEDBACK_COMMENT).optional(),
  })
  .meta({ id: "FeedbackRequest" });

export type FeedbackRequest = z.infer<typeof FeedbackRequest>;

export const Feedback = z
  .object({
    id: z.string().meta({ description: "The completion's id (`chatcmpl-...`)" }),
    rating: z.enum(["up", "down"]),
    neededLargeModel: z.boolean().nullable(),
    comment: z.string().nullable(),
    decision: z
      .object({
        time: z.string(),
        model: z.string(),
        tier: z.enum(["slm", "llm"]),
        score: z.number().nullable(),
        threshold: z.number().nullable(),
        reason: z.string(),
      })
      .meta({ description: "The routing decision rated, copied from the completion's cost record (never from the request)" }),
    time: z.string().meta({ description: "When the feedback was given (last changed)" }),
    updatedBy: z.string(),
  })
  .meta({ id: "Feedback" });

export type Feedback = z.infer<typeof Feedback>;

export const CalibrateFromFeedbackRequest = z
  .strictObject({ dryRun: z.boolean().optional().meta({ description: "Report only: the settings are not changed" }) })
  .meta({ id: "CalibrateFromFeedbackRequest" });

const VerdictCounts = z.object({ up: z.number(), down: z.number(), neededLargeModel: z.number() });

export const FeedbackCalibrationReport = z
  .object({
    dryRun: z.boolean(),
    applied: z.boolean().meta({ description: "Whether the new threshold was stored (not on a dry run, nor when it did not move)" }),
    outcome: z.enum(["moved", "too_little_feedback", "no_change"]),
    feedback: z.object({
      total: z.number().meta({ description: "Feedback items read (the newest, up to 500)" }),
      counted: z.number().meta({ description: "Items that say something about the threshold (see the rule)" }),
      minimum: z.number().meta({ description: "Counted items needed before the threshold moves" }),
      byTier: z.object({ slm: VerdictCounts, llm: VerdictCounts }),
    }),
    threshold: z.object({
      before: z.number(),
      after: z.number(),
      moved: z.number().meta({ description: "after - before" }),
      estimate: z.number().nullable().meta({ description: "The best separation before shrinkage and bounds" }),
    }),
    decisions: z
      .object({ considered: z.number(), changed: z.number(), changedShare: z.number() })
      .meta({ description: "Recent routed decisions (up to 500) and how many would now go to the other tier" }),
    settings: RoutingSettings,
  })
  .meta({ id: "FeedbackCalibrationReport" });

export type FeedbackCalibrationReport = z.infer<typeof FeedbackCalibrationReport>;
