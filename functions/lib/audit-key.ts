import type { AuditSettings } from "./config";

/**
 * Where the audit consumer's checkpoint signing key comes from (docs/audit-operations.md):
 *
 * - locally: `AGENTORG_AUDIT_SIGNING_KEY`, set by the local runtime (local/platform.ts) from the
 *   environment or from `<data dir>/audit-signing-key`;
 * - in AWS: the SSM SecureString parameter named by `AGENTORG_AUDIT_KEY_PARAMETER`, read once per cold
 *   start of the consumer, so the seed never sits in a function's configuration. Only the consumer
 *   needs it (ssm:GetParameter on that parameter, kms:Decrypt on its key); HTTP functions serve the
 *   public half from the key registry in the table.
 */
export async function loadAuditSigningKey(
  settings: Pick<AuditSettings, "signingKey" | "keyParameter">,
  options: SsmOptions,
  read: (name: string, options: SsmOptions) => Promise<string> = readSecureParameter,
): Promise<string> {
  if (settings.signingKey) return settings.signingKey;
  if (settings.keyParameter) return (await read(settings.keyParameter, options)).trim();
  throw new Error(
    "Invalid configuration: AGENTORG_AUDIT_SIGNING_KEY or AGENTORG_AUDIT_KEY_PARAMETER must be set for the audit consumer to sign checkpoints",
  );
}

export interface SsmOptions {
  region: string;
  /** Endpoint override (tests); unset in AWS. */
  endpoint?: string;
}

/**
 * One SecureString parameter, decrypted. The SSM client is loaded only on this path: the local
 * runtime never needs it, and only the functions that read a secret bundle it.
 */
export async function readSecureParameter(name: string, options: SsmOptions): Promise<string> {
  // The bare client and one command (not the `SSM` aggregate, which pulls in every command).
  const { SSMClient, GetParameterCommand } = await import("@aws-sdk/client-ssm");
  const ssm = new SSMClient({ region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    if (!Parameter?.Value) throw new Error(`SSM parameter ${name} has no value`);
    return Parameter.Value;
  } finally {
    ssm.destroy();
  }
}
