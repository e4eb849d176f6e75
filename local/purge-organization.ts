import { createDocumentClient } from "../core/db/client";
import { purgeOrganization } from "../core/db/purge";
import { isDomainError } from "../core/errors";

/**
 * `npm run org:purge -- <orgId>`: removes every item of a CLOSED organization. Against the local
 * platform by default (DYNAMODB_ENDPOINT http://127.0.0.1:8000, TABLE_NAME agentorg; `npm start` must
 * be running); against AWS with TABLE_NAME=<deployed table> and DYNAMODB_ENDPOINT= (empty).
 */
const orgId = process.argv[2];
if (!orgId || orgId.startsWith("-")) {
  console.error("usage: npm run org:purge -- <orgId>");
  process.exit(2);
}
const endpoint = process.env.DYNAMODB_ENDPOINT ?? "http://127.0.0.1:8000";
const table = process.env.TABLE_NAME ?? process.env.AGENTORG_TABLE ?? "agentorg";
if (endpoint) {
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
}
const client = createDocumentClient({ region: process.env.AWS_REGION ?? "us-east-1", ...(endpoint ? { endpoint } : {}) });

purgeOrganization({ client, table }, orgId, ({ deleted }) => process.stderr.write(`\rdeleted ${deleted} items`))
  .then(({ deleted }) => {
    process.stderr.write("\n");
    console.log(`Purged organization ${orgId}: ${deleted} items deleted from ${table}.`);
  })
  .catch((error: unknown) => {
    console.error(`org:purge: ${isDomainError(error) ? error.message : error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
