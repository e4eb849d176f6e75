import { createHash } from "node:crypto";
import { z } from "zod";

const Env = z
  .object({
    TABLE_NAME: z.string().min(3, "must name the DynamoDB table (at least 3 characters)"),
    AGENTORG_OPERATOR_KEY: z.string().min(16, "must be at least 16 characters").optional(),
    AGENTORG_OPERATOR_KEY_SHA256: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "must be a lowercase hex SHA-256")
      .optional(),
    DYNAMODB_ENDPOINT: z.url().optional(),
    AWS_REGION: z.string().default("us-east-1"),
    /** @connections endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}, or the local one). */
    AGENTORG_WS_ENDPOINT: z.url().optional(),
    AGENTORG_VERSION: z.string().default("0.1.0"),
  })
  .refine((env) => env.AGENTORG_OPERATOR_KEY || env.AGENTORG_OPERATOR_KEY_SHA256, {
    message: "one of AGENTORG_OPERATOR_KEY or AGENTORG_OPERATOR_KEY_SHA256 must be set",
    path: ["AGENTORG_OPERATOR_KEY_SHA256"],
  });

export interface Config {
  tableName: string;
  operatorKeySha256: string;
  dynamoDbEndpoint?: string;
  region: string;
  wsEndpoint?: string;
  version: string;
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
  return {
    tableName: e.TABLE_NAME,
    operatorKeySha256:
      e.AGENTORG_OPERATOR_KEY_SHA256 ?? createHash("sha256").update(e.AGENTORG_OPERATOR_KEY!).digest("hex"),
    ...(e.DYNAMODB_ENDPOINT ? { dynamoDbEndpoint: e.DYNAMODB_ENDPOINT } : {}),
    region: e.AWS_REGION,
    ...(e.AGENTORG_WS_ENDPOINT ? { wsEndpoint: e.AGENTORG_WS_ENDPOINT } : {}),
    version: e.AGENTORG_VERSION,
  };
}

let cached: Config | undefined;
export const config = (): Config => (cached ??= parseConfig(process.env));

/** Forget the parsed settings: the local runtime's stand-in for a new cold start after it changes the env. */
export const resetConfig = (): void => {
  cached = undefined;
};
