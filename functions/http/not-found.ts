import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { DomainError } from "../../core/errors";
import { fail } from "../lib/http";
import { createRouteMatcher } from "../lib/route-match";
import { ROUTE_TABLE } from "../manifest/route-table";

const { allowedMethods } = createRouteMatcher(ROUTE_TABLE);

/**
 * The `$default` route: API Gateway sends here whatever matches no route. A known path with another
 * method is 405 with `Allow`; anything else a problem+json 404 (with OpenAI's error object beside it).
 */
export const handler = async (event: APIGatewayProxyEventV2) => {
  const requestId = event.requestContext?.requestId ?? "unknown";
  const path = event.rawPath;
  const allowed = allowedMethods(path);
  const error = allowed.length
    ? new DomainError("method_not_allowed", "method_not_allowed", `${event.requestContext.http.method} is not allowed on ${path}.`, { allowed })
    : new DomainError("not_found", "route_not_found", `No route matches ${event.requestContext.http.method} ${path}.`);
  // With OpenAI's error object too: OpenAI's SDKs call routes this API does not have (embeddings,
  // the Responses API), and would otherwise show "404 status code (no body)".
  return fail(error, requestId, path, [], true);
};
