/**
 * A new Ed25519 key for signing audit checkpoints (docs/audit-operations.md, "Signing key"):
 *
 *   npx tsx tools/audit-keygen.ts
 *
 * Prints JSON: `privateKey` (base64 of the 32-byte seed: a secret, for the SSM SecureString parameter
 * or AGENTORG_AUDIT_SIGNING_KEY, never for a file in the repository), `publicKey` and `keyId` (public:
 * give them to whoever verifies exports).
 */
import { generateAuditKeyPair } from "../core/audit/chain";

console.log(JSON.stringify(generateAuditKeyPair(), null, 2));
