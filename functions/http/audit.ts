import { http } from "../lib/http";
import { auditLog } from "../lib/services/audit";
import { lambdaStreaming, streamingHttp } from "../lib/streaming";
import { auditRoutes as routes } from "../manifest/audit";

const audit = auditLog;

export const entries = http(routes.auditEntries, ({ principal, query }) => audit().entries(principal, query));
export const checkpoints = http(routes.auditCheckpoints, ({ principal, query }) => audit().checkpoints(principal, query));
export const verify = http(routes.auditVerify, ({ principal, query }) => audit().verify(principal, query));
export const publicKey = http(routes.auditPublicKey, () => audit().publicKey());

/**
 * JSON Lines, streamed a storage page at a time. The head goes out with the first chunk, so a refusal
 * or a failed first read is an ordinary problem response; a failure later ends the body with a line
 * that is not a record, which every verifier rejects (a cut export never passes for a whole one).
 */
export const exportLog = streamingHttp(routes.auditExport, async ({ principal, query, requestId }, sink) => {
  const chunks = (await audit().export(principal, query))[Symbol.asyncIterator]();
  let next = await chunks.next();
  sink.head(200, { "content-type": "application/x-ndjson; charset=utf-8", "x-request-id": requestId });
  for (; !next.done; next = await chunks.next()) sink.write(next.value);
  sink.end();
});

/** The export for a Lambda function URL with response streaming (the stacks deploy both). */
export const exportStream = lambdaStreaming(exportLog);
