import { z } from "../shared/zod";

export const CreateApiKeyBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(80, "must be at most 80 characters").default("default"),
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
  })
  .meta({ id: "ApiKey" });

export const CreatedApiKey = ApiKey.extend({
  secret: z.string().meta({ description: "The full key. Shown once: only its SHA-256 is stored." }),
}).meta({ id: "CreatedApiKey" });

export type ApiKey = z.infer<typeof ApiKey>;
export type CreatedApiKey = z.infer<typeof CreatedApiKey>;
