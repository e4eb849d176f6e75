import type { Server, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { DomainError, invalidInput } from "../core/errors";
import { problemResponse } from "../functions/lib/problem";
import { createGuardedServer, decodePath, hasBody, readBoundedBody, refuse, requestTarget } from "./http-guards";
import { createSigV4Verifier, type LocalCredentials } from "./sigv4-verifier";

/** API Gateway's PostToConnection limit: a bigger body is refused before it is read. */
export const MAX_CONNECTIONS_BODY = 128 * 1024;

export interface ConnectionsEndpointOptions {
  /** Stage in the path: `/{stage}/@connections/{id}`, as the management client builds it from its endpoint. */
  stage: string;
  credentials: LocalCredentials;
  /** Does the work once the call is authenticated and its body read (the WebSocket gateway). */
  management(method: string, connectionId: string, body: Buffer, res: ServerResponse): Promise<void>;
}

/**
 * The @connections management endpoint, on its own listener (the platform binds it to 127.0.0.1 only):
 * in AWS it sits behind IAM, so here every call must carry a valid SigV4 signature made with the
 * platform's per-run credentials, which only the in-process handlers get. Refusals are 403 (unsigned,
 * wrongly signed, stale), 413 (body over 128 KiB, not read), 400 (a path that does not decode), as
 * problem+json with the `x-amzn-errortype` the SDK turns into its typed exceptions.
 */
export function createConnectionsEndpoint({ stage, credentials, management }: ConnectionsEndpointOptions): Server {
  const verifier = createSigV4Verifier({ credentials, service: "execute-api" });
  const pattern = new RegExp(`^/${stage}/@connections/([^/]+)$`);

  return createGuardedServer(async (req, res) => {
    const requestId = randomUUID();
    const answer = (error: DomainError, errorType: string) => {
      const problem = problemResponse(error, requestId, req.url?.slice(0, 200));
      // A refused request's body is not read: close the connection rather than drain it.
      refuse(res, problem.statusCode, { ...(problem.headers as Record<string, string>), "x-amzn-errortype": errorType, "x-amzn-requestid": requestId }, String(problem.body));
    };
    const forbidden = (reason: string) => answer(new DomainError("forbidden", "invalid_signature", reason), "ForbiddenException");

    const target = requestTarget(req.url);
    if (!target) return answer(invalidInput("The request target is not a path.", [], "bad_request_path"), "BadRequestException");
    const pre = verifier.precheck(req);
    if (!pre.ok) return forbidden(pre.reason);
    const match = pattern.exec(target.path);
    if (!match) return answer(new DomainError("not_found", "not_found", "No such resource."), "NotFoundException");

    const method = req.method ?? "GET";
    const body = method === "POST" || hasBody(req) ? await readBoundedBody(req, MAX_CONNECTIONS_BODY) : Buffer.alloc(0);
    if (body === "too_large") {
      return answer(
        new DomainError("payload_too_large", "payload_too_large", `A @connections body is at most ${MAX_CONNECTIONS_BODY} bytes.`, { limit: MAX_CONNECTIONS_BODY }),
        "PayloadTooLargeException",
      );
    }
    const verdict = await verifier.verify(req, target.path, target.search, body);
    if (!verdict.ok) return forbidden(verdict.reason);

    const connectionId = decodePath(match[1]!);
    if (connectionId === undefined) return answer(invalidInput("The connection id in the path is not a valid percent-encoding.", [], "bad_request_path"), "BadRequestException");
    await management(method, connectionId, body, res);
  });
}
