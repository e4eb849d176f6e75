import { z } from "../shared/zod";

/**
 * Rate limits of an organization: the tier's defaults (core/tenants/tiers.ts), each value replaceable by
 * the operator per organization. Bounds: one bucket is one DynamoDB item, written once per admitted
 * request, and one item takes at most 1,000 writes a second; 500 leaves room for refused writes
 * (docs/rate-limiting.md). The lower bound of 0.001 requests a second (one per 1,000 s) lets an operator
 * all but stop a tenant without closing it.
 */
const requestsPerSecond = z.number().min(0.001).max(500).meta({ description: "Average requests a second (0.001 to 500)" });
const burst = z.number().int().min(1).max(10_000).meta({ description: "Requests that may arrive at once (the bucket's size)" });

export const RequestRate = z.strictObject({ requestsPerSecond, burst }).meta({ id: "RequestRate" });

export const ChatRate = z
  .strictObject({
    requestsPerMinute: z.number().int().min(1).max(30_000).meta({ description: "Model calls a minute (each agent step is one)" }),
    tokensPerMinute: z
      .number()
      .int()
      .min(1)
      .max(100_000_000)
      .meta({ description: "Tokens a minute, counted up front: the estimated input plus max_tokens" }),
  })
  .meta({ id: "ChatRate" });

export const RateLimits = z
  .object({
    organization: RequestRate.meta({ description: "Every authenticated request and WebSocket frame of the organization" }),
    apiKey: RequestRate.meta({ description: "The same, for each API key on its own" }),
    chat: ChatRate.meta({ description: "Chat completions of the organization (HTTP, WebSocket chat and agent steps)" }),
  })
  .meta({ id: "RateLimits" });

/** The operator's override: any subset of the values; the rest follow the tier. `{}` removes it. */
export const RateLimitOverride = z
  .strictObject({
    organization: RequestRate.partial().optional(),
    apiKey: RequestRate.partial().optional(),
    chat: ChatRate.partial().optional(),
  })
  .meta({ id: "RateLimitOverride" });

export const RateLimitSettings = z
  .object({
    orgId: z.string(),
    tier: z.string(),
    defaults: RateLimits.meta({ description: "The tier's limits" }),
    override: RateLimitOverride.nullable().meta({ description: "Values the operator set for this organization" }),
    effective: RateLimits.meta({ description: "The limits in force: the override over the tier's" }),
  })
  .meta({ id: "RateLimitSettings" });

export type RequestRate = z.infer<typeof RequestRate>;
export type ChatRate = z.infer<typeof ChatRate>;
export type RateLimits = z.infer<typeof RateLimits>;
export type RateLimitOverride = z.infer<typeof RateLimitOverride>;
export type RateLimitSettings = z.infer<typeof RateLimitSettings>;
