import { z } from "../shared/zod";
import { RateLimitOverride } from "../ratelimit/rate-limit.schema";
import { TIERS } from "./tiers";

export const INDUSTRIES = [
  "finance",
  "healthcare",
  "tech",
  "retail",
  "manufacturing",
  "education",
  "government",
  "other",
] as const;
export const SIZES = ["small", "medium", "large", "enterprise"] as const;

export const Industry = z.enum(INDUSTRIES).meta({ id: "Industry" });
export const Size = z.enum(SIZES).meta({ id: "OrganizationSize" });
export const TierName = z.enum(TIERS).meta({ id: "Tier" });

const name = z.string().trim().min(1, "must not be empty").max(120, "must be at most 120 characters");

export const CreateOrganizationBody = z
  .strictObject({
    name,
    industry: Industry.default("other"),
    size: Size.default("small"),
    tier: TierName.default("basic"),
  })
  .meta({ id: "CreateOrganization" });

export const UpdateOrganizationBody = z
  .strictObject({
    name: name.optional(),
    industry: Industry.optional(),
    size: Size.optional(),
    tier: TierName.optional(),
    spendLimitUsd: z
      .number()
      .min(0)
      .max(1_000_000_000, "must be at most 1,000,000,000")
      .nullable()
      .optional()
      .meta({ description: "A monthly model-spend cap below the tier's budget; null removes it" }),
  })
  .refine((body) => Object.keys(body).length > 0, { message: "at least one field must be given" })
  .meta({ id: "UpdateOrganization" });

export const Quotas = z
  .object({ agents: z.number().int(), ticketsPerMonth: z.number().int(), modelBudgetUsd: z.number() })
  .meta({ id: "Quotas" });

export const Organization = z
  .object({
    id: z.string(),
    name: z.string(),
    industry: Industry,
    size: Size,
    tier: TierName,
    status: z.enum(["active", "closed"]),
    quotas: Quotas,
    basePriceUsd: z.number(),
    spendLimitUsd: z.number().nullable().optional().meta({ description: "Monthly model-spend cap set by the organization (below the tier budget)" }),
    rateLimits: RateLimitOverride.nullable()
      .optional()
      .meta({ description: "Rate limits the operator set for this organization (GET /organizations/{id}/rate-limits shows the limits in force)" }),
    createdAt: z.string(),
    updatedAt: z.string(),
    closedAt: z.string().optional(),
    version: z.number().int().optional().meta({ description: "Incremented by every change (optimistic concurrency)" }),
  })
  .meta({ id: "Organization" });

export const UsageCounter = z.object({ used: z.number(), limit: z.number() });

export const OrganizationUsage = z
  .object({
    orgId: z.string(),
    period: z.string().meta({ description: "Calendar month in UTC, YYYY-MM" }),
    resetsAt: z.string(),
    agents: UsageCounter,
    tickets: UsageCounter,
    modelSpendUsd: UsageCounter,
    queries: z.object({ total: z.number(), slm: z.number(), llm: z.number(), offline: z.number(), fallbacks: z.number() }),
    models: z.record(z.string(), z.number()).meta({ description: "Queries per model id" }),
    tokens: z.object({ input: z.number(), output: z.number() }),
    costUsd: z.number(),
    baselineUsd: z.number().meta({ description: "What the same tokens would have cost on the default LLM" }),
    savingsUsd: z.number(),
    estimated: z.boolean().meta({ description: "True when some figures come from the offline responder (estimates)" }),
    bill: z.object({ basePriceUsd: z.number(), meteredUsd: z.number(), totalUsd: z.number() }),
  })
  .meta({ id: "OrganizationUsage" });

export type CreateOrganizationInput = z.infer<typeof CreateOrganizationBody>;
export type UpdateOrganizationInput = z.infer<typeof UpdateOrganizationBody>;
export type Organization = z.infer<typeof Organization>;
export type OrganizationUsage = z.infer<typeof OrganizationUsage>;
export type IndustryName = z.infer<typeof Industry>;
