import { z } from "../shared/zod";

export const APPROVAL_STATUSES = ["pending", "approved", "rejected", "expired"] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** An approval request as the API shows it (core/approvals/approval-service.ts). */
export const ApprovalRequest = z
  .object({
    id: z.string(),
    kind: z.literal("tool_call").meta({ description: "What waits: an agent's tool call" }),
    requestedBy: z.string().meta({ description: "The agent whose tool call waits (its id)" }),
    requestedByName: z.string(),
    summary: z.string().meta({ description: "What the call would do, in words" }),
    action: z
      .object({ tool: z.string(), arguments: z.unknown(), rule: z.string().meta({ description: "The role's approvalRequired entry that matched" }) })
      .meta({ description: "The deferred action: the tool call as the agent made it" }),
    status: z.enum(APPROVAL_STATUSES).meta({ description: "expired: still pending past expiresAt (no longer decidable)" }),
    createdAt: z.string(),
    expiresAt: z.string(),
    decidedBy: z.string().optional().meta({ description: "key:<id> of the person who decided" }),
    decidedByName: z.string().optional(),
    decidedAt: z.string().optional(),
    reason: z.string().optional().meta({ description: "Why it was rejected (or a comment on the approval)" }),
    outcome: z
      .object({ ok: z.boolean(), result: z.unknown() })
      .optional()
      .meta({ description: "Approved: what the tool call returned when it ran (or its error)" }),
  })
  .meta({ id: "ApprovalRequest" });

export const ApprovalFilters = z.object({
  status: z.enum(APPROVAL_STATUSES).optional().meta({ description: "Only requests in this status (default: all)" }),
});

export const ApproveBody = z.strictObject({ comment: z.string().trim().max(2000).optional() }).meta({ id: "ApproveRequest" });
export const RejectBody = z.strictObject({ reason: z.string().trim().min(1, "must not be empty").max(2000) }).meta({ id: "RejectRequest" });

export type ApprovalView = z.infer<typeof ApprovalRequest>;
