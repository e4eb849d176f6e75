import { z } from "../shared/zod";

export const CreateApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(80, "must be at most 80 characters").default("default"),
    models: z
      .array(z.string().trim().min(1, "must not be empty").max(200, "must be at most 200 characters"))
      .min(1, "must name at least one model (leave it out to allow every model)")
      .max(50, "must list at most 50 models")
      .optional()
      .meta({ description: 'The models this key may request on chat completions (as LiteLLM\'s virtual keys): "auto", catalog ids or aliases. Absent: every model.' }),
  })
  .meta({ id: "CreateApiKey" });

export const ApiKey = z
  .object({
    id: z.string(),
    orgId: z.string(),
    name: z.string(),
    prefix: z.string().meta({ description: "The key's first characters, to tell keys apart" }),
    createdAt: z.string(),
    revokedAt: z.string().optional(),
    models: z.array(z.string()).optional().meta({ description: "The models the key may request; absent: every model" }),
  })
  .meta({ id: "ApiKey" });

export const CreatedApiKey = ApiKey.extend({
  secret: z.string().meta({ description: "The full key. Shown once: only its SHA-256 is stored." }),
}).meta({ id: "CreatedApiKey" });

export type ApiKey = z.infer<typeof ApiKey>;
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;
