import { z } from "../shared/zod";

const models = z
  .array(z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"))
  .min(1, "must name at least one model (leave it out to allow every model)")
  .max(50, "must list at most 50 models");

/**
 * A key's own monthly model budget (as LiteLLM's virtual keys have one): its queries are refused
 * (429 `key_budget_exceeded`) once they would take its month's spend above it, whatever the
 * organization's budget has left. Cents at most (it is compared in micro-dollars).
 */
const budget = z
  .number()
  .positive("must be more than 0")
  .max(1_000_000, "must be at most 1000000")
  .refine((v) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6, "must be in whole cents")
  .meta({ description: "The key's own monthly model budget in USD, besides the organization's (429 key_budget_exceeded once spent). Absent: none." });

export const CreateApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(80, "must be at most 80 characters").default("default"),
    models: models
      .optional()
      .meta({ description: 'The models this key may request on chat completions (as LiteLLM\'s virtual keys): "auto", catalog ids or aliases. Absent: every model.' }),
    monthlyBudgetUsd: budget.optional(),
  })
  .meta({ id: "CreateApiKey" });

/** A change to a key's name or limits: `null` removes the limit. At least one field. */
export const UpdateApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(80, "must be at most 80 characters").optional(),
    models: models.nullable().optional(),
    monthlyBudgetUsd: budget.nullable().optional(),
  })
  .refine((body) => Object.values(body).some((v) => v !== undefined), { message: "must change at least one of name, models, monthlyBudgetUsd" })
  .meta({ id: "UpdateApiKey" });

export const ApiKey = z
  .object({
    id: z.string(),
    orgId: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: "The key's first characters, to tell keys apart" }),
    createdAt: z.string(),
    revokedAt: z.string().optional(),
    models: z.array(z.string()).optional().meta({ description: "The models the key may request; absent: every model" }),
    monthlyBudgetUsd: z.number().optional().meta({ description: "The key's own monthly model budget in USD; absent: none" }),
    spend: z
      .object({
        period: z.string().meta({ description: "The month, YYYY-MM (UTC)" }),
        spentUsd: z.number().meta({ description: "Settled cost of the key's queries this month" }),
        remainingUsd: z.number().meta({ description: "What the budget has left, queries still running counted" }),
      })
      .optional()
      .meta({ description: "This month's spend against the key's own budget (keys with a budget, in listings)" }),
  })
  .meta({ id: "ApiKey" });

export const CreatedApiKey = ApiKey.extend({
  secret: z.string().meta({ description: "The full key. Shown once: only its SHA-256 is stored." }),
}).meta({ id: "CreatedApiKey" });

export type ApiKey = z.infer<typeof ApiKey>;
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;
