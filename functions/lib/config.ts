import { createHash, createHmac } from "node:crypto";
import { z } from "zod";
import type { ModelSettings } from "../../core/models/catalog";

const Env = z
  .object({
    TABLE_NAME: z.string().min(3, "must name the DynamoDB table (at least 3 characters)"),
    AGENTORG_OPERATOR_KEY: z.string().min(16, "must be at least 16 characters").optional(),
    AGENTORG_OPERATOR_KEY_SHA256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256")
      .optional(),
    DYNAMODB_ENDPOINT: z.url().optional(),
    /** Signs pagination cursors; unset = derived from the operator key's hash (same in every function). */
    AGENTORG_CURSOR_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
    AWS_REGION: z.string().default("us-east-1"),
    /** @connections endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}, or the local one). */
    AGENTORG_WS_ENDPOINT: z.url().optional(),
    AGENTORG_VERSION: z.string().default("0.1.0"),
    AGENTORG_SLM_BASE_URL: z.url().optional(),
    AGENTORG_SLM_API_KEY: z.string().optional(),
    AGENTORG_LLM_BASE_URL: z.url().optional(),
    AGENTORG_LLM_API_KEY: z.string().optional(),
    /** In AWS: SSM SecureString parameters holding the endpoints' API keys (read at first use). */
    AGENTORG_SLM_API_KEY_PARAMETER: z.string().startsWith("/").optional(),
    AGENTORG_LLM_API_KEY_PARAMETER: z.string().startsWith("/").optional(),
    OPENAI_API_KEY: z.string().optional(),
    AGENTORG_SLM_MODEL: z.string().default("llama-3.2-3b"),
    AGENTORG_LLM_MODEL: z.string().default("gpt-4o"),
    AGENTORG_MODEL_TIMEOUT_MS: z.coerce.number().int().min(100).max(900_000).default(30_000),
    AGENTORG_MODEL_MAX_RETRIES: z.coerce.number().int().min(0).max(5).default(1),
    AGENTORG_DEFAULT_MAX_TOKENS: z.coerce.number().int().min(1).max(100_000).default(1024),
    /** Audit checkpoint signing key: base64 of a raw 32-byte Ed25519 seed (local runtime; in AWS see the next). */
    AGENTORG_AUDIT_SIGNING_KEY: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, "must be base64 of a 32-byte Ed25519 seed")
      .optional(),
    /** In AWS: the SSM SecureString parameter holding that seed, read by the audit consumer at cold start. */
    AGENTORG_AUDIT_KEY_PARAMETER: z.string().min(1).optional(),
    AGENTORG_AUDIT_CHECKPOINT_EVERY: z.coerce.number().int().min(1).max(10_000).default(100),
    AGENTORG_AUDIT_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
    /** The redrive functions only: the consumer's on-failure SQS queue. */
    AGENTORG_FAILURE_QUEUE_URL: z.url().optional(),
  })
  .refine((env) => env.AGENTORG_OPERATOR_KEY || env.AGENTORG_OPERATOR_KEY_SHA256, {
    message: "one of AGENTORG_OPERATOR_KEY or AGENTORG_OPERATOR_KEY_SHA256 must be set",
    path: ["AGENTORG_OPERATOR_KEY_SHA256"],
  });

export interface Config {
  models: ModelSettings;
  tableName: string;
  operatorKeySha256: string;
  /** Key of the pagination cursors' HMAC (core/db/cursor.ts). */
  cursorSecret: Buffer;
  dynamoDbEndpoint?: string;
  region: string;
  wsEndpoint?: string;
  version: string;
  audit: AuditSettings;
  /** A redrive function's failure queue (unset elsewhere). */
  failureQueueUrl?: string;
}

/** The audit log's settings (docs/audit-operations.md). */
export interface AuditSettings {
  signingKey?: string;
  keyParameter?: string;
  checkpointEvery: number;
  checkpointSeconds: number;
}

/**
 * The function's settings, parsed once at cold start. A missing or bad variable fails here, naming it,
 * instead of surfacing later as an odd error deep in a request.
 */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const result = Env.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new Error(`Invalid configuration: ${problems}`);
  }
  const e = result.data;
  const operatorKeySha256 = e.AGENTORG_OPERATOR_KEY_SHA256 ?? createHash("sha256").update(e.AGENTORG_OPERATOR_KEY!).digest("hex");
  return {
    tableName: e.TABLE_NAME,
    operatorKeySha256,
    // A secret every function of a deployment shares without another parameter: a key derived from the
    // operator key's hash for this one purpose (the hash itself authenticates nothing).
    cursorSecret: e.AGENTORG_CURSOR_SECRET
      ? Buffer.from(e.AGENTORG_CURSOR_SECRET, "utf8")
      : createHmac("sha256", Buffer.from(operatorKeySha256, "hex")).update("agentorg/cursor/v1").digest(),
    ...(e.DYNAMODB_ENDPOINT ? { dynamoDbEndpoint: e.DYNAMODB_ENDPOINT } : {}),
    region: e.AWS_REGION,
    ...(e.AGENTORG_WS_ENDPOINT ? { wsEndpoint: e.AGENTORG_WS_ENDPOINT } : {}),
    version: e.AGENTORG_VERSION,
    ...(e.AGENTORG_FAILURE_QUEUE_URL ? { failureQueueUrl: e.AGENTORG_FAILURE_QUEUE_URL } : {}),
    audit: {
      ...(e.AGENTORG_AUDIT_SIGNING_KEY ? { signingKey: e.AGENTORG_AUDIT_SIGNING_KEY } : {}),
      ...(e.AGENTORG_AUDIT_KEY_PARAMETER ? { keyParameter: e.AGENTORG_AUDIT_KEY_PARAMETER } : {}),
      checkpointEvery: e.AGENTORG_AUDIT_CHECKPOINT_EVERY,
      checkpointSeconds: e.AGENTORG_AUDIT_CHECKPOINT_SECONDS,
    },
    models: {
      slm: {
        ...(e.AGENTORG_SLM_BASE_URL ? { baseURL: e.AGENTORG_SLM_BASE_URL } : {}),
        ...(e.AGENTORG_SLM_API_KEY ? { apiKey: e.AGENTORG_SLM_API_KEY } : {}),
        ...(e.AGENTORG_SLM_API_KEY_PARAMETER ? { apiKeyParameter: e.AGENTORG_SLM_API_KEY_PARAMETER } : {}),
      },
      // An OpenAI key alone means: GPT-4-class models from OpenAI itself.
      llm: {
        ...(e.AGENTORG_LLM_BASE_URL ? { baseURL: e.AGENTORG_LLM_BASE_URL } : e.OPENAI_API_KEY ? { baseURL: "https://api.openai.com/v1" } : {}),
        ...((e.AGENTORG_LLM_API_KEY ?? e.OPENAI_API_KEY) ? { apiKey: (e.AGENTORG_LLM_API_KEY ?? e.OPENAI_API_KEY)! } : {}),
        ...(e.AGENTORG_LLM_API_KEY_PARAMETER ? { apiKeyParameter: e.AGENTORG_LLM_API_KEY_PARAMETER } : {}),
      },
      defaultSlm: e.AGENTORG_SLM_MODEL,
      defaultLlm: e.AGENTORG_LLM_MODEL,
      timeoutMs: e.AGENTORG_MODEL_TIMEOUT_MS,
      maxRetries: e.AGENTORG_MODEL_MAX_RETRIES,
      defaultMaxTokens: e.AGENTORG_DEFAULT_MAX_TOKENS,
    },
  };
}

let cached: Config | undefined;
export const config = (): Config => (cached ??= parseConfig(process.env));

/** Forget the parsed settings: the local runtime's stand-in for a new cold start after it changes the env. */
export const resetConfig = (): void => {
  cached = undefined;
};
