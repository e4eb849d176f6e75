import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import { createRouteMatcher } from "../functions/lib/route-match";
import { fallback, httpRoutes } from "../functions/routes";
import { CORS } from "../functions/lib/cors";
import type { ResponseSink, StreamingHandler } from "../functions/lib/streaming";
import { invalidInput, DomainError } from "../core/errors";
import { problemResponse } from "../functions/lib/problem";
import { runtimePermissions } from "../functions/manifest.types";
import { loadHandler } from "./handlers";
import { runAs } from "./permission-guard";
import { decodePath, readBoundedBody, refuse } from "./http-guards";
import { invocationContext, type TimeoutOf, timeoutsOf } from "./invocation-context";

const { match: matchRoute, allowedMethods } = createRouteMatcher(httpRoutes);

/**
 * API Gateway's own payload limit for HTTP APIs; the handlers enforce the product's (256 KiB). A body
 * declared bigger is refused unread; a chunked one stops being read at the limit.
 */
export const GATEWAY_MAX_BODY = 10 * 1024 * 1024;

type HttpHandler = (event: APIGatewayProxyEventV2, context: unknown) => Promise<APIGatewayProxyResultV2>;

const CORS_HEADERS = {
  "access-control-allow-origin": CORS.allowOrigins.join(", "),
  "access-control-allow-headers": CORS.allowHeaders.join(", "),
  "access-control-expose-headers": CORS.exposeHeaders.join(", "),
};

/**
 * The local stand-in for API Gateway's HTTP API: turns a Node request into a payload-format-2.0 event,
 * picks the handler from the route manifest (or the `$default` fallback), invokes it and writes its
 * result back as API Gateway would. Each invocation gets a context whose remaining time is its
 * function's timeout from the moment it starts (`timeoutOf`), as Lambda's.
 */
export function createHttpGateway({ domainName, timeoutOf = timeoutsOf() }: { domainName: string; timeoutOf?: TimeoutOf }) {
  /** Refuses before any handler runs, as API Gateway does: problem+json, connection closed (body unread). */
  const refuseProblem = (res: ServerResponse, error: DomainError, path: string) => {
    const requestId = randomUUID();
    const problem = problemResponse(error, requestId, path.slice(0, 200));
    refuse(res, problem.statusCode, { ...CORS_HEADERS, ...(problem.headers as Record<string, string>), "apigw-requestid": requestId }, String(problem.body));
  };

  /** `target`: the request's path (still percent-encoded) and query, already split by the caller. */
  return async function handle(req: IncomingMessage, res: ServerResponse, target: { path: string; search: string }): Promise<void> {
    // A path with a bad escape (`%ZZ`, a cut UTF-8 sequence) names no resource: 400 before routing,
    // since route matching decodes path parameters.
    if (decodePath(target.path) === undefined) {
      refuseProblem(res, invalidInput("The request path is not valid percent-encoding.", [], "bad_request_path"), target.path);
      return;
    }
    // Built from our own authority, so no request target (`//host:99999`) can make it throw.
    const url = new URL(`http://${domainName}${target.path}${target.search}`);
    const method = (req.method ?? "GET").toUpperCase();

    if (method === "OPTIONS" && req.headers["access-control-request-method"]) {
      const allowed = allowedMethods(url.pathname);
      res.writeHead(204, { ...CORS_HEADERS, "access-control-allow-methods": [...allowed, "OPTIONS"].join(", ") });
      res.end();
      return;
    }

    const body = await readBoundedBody(req, GATEWAY_MAX_BODY);
    if (body === "too_large") {
      refuseProblem(
        res,
        new DomainError("payload_too_large", "payload_too_large", `A request body is at most ${GATEWAY_MAX_BODY} bytes.`, { limit: GATEWAY_MAX_BODY }),
        target.path,
      );
      return;
    }

    const match = matchRoute(method, url.pathname);
    const routeKey = match ? `${match.route.method} ${match.route.path}` : "$default";
    const event = toEvent(req, url, method, body, routeKey, match?.params, domainName);
    if (match?.route.streaming) {
      // Served in AWS by a function URL with response streaming; here the handler writes to the socket.
      const streaming = await loadHandler<StreamingHandler>(match.route.handler);
      await runAs({ function: match.route.handler, permissions: runtimePermissions(match.route) }, () =>
        streaming(event, responseSink(res, event.requestContext.requestId), invocationContext(match.route.handler, timeoutOf(match.route))),
      );
      return;
    }
    const spec = match ? match.route : fallback;
    const permissions = match ? runtimePermissions(match.route) : [...fallback.permissions];
    const handler = await loadHandler<HttpHandler>(spec.handler);
    let result: APIGatewayProxyResultV2;
    try {
      // As the route's function: its DynamoDB commands are held to its declared permissions.
      result = await runAs({ function: spec.handler, permissions }, () => handler(event, invocationContext(spec.handler, timeoutOf(spec))));
    } catch (error) {
      // A handler that throws past its wrapper: API Gateway answers 500 with its own body.
      console.error(JSON.stringify({ level: "ERROR", message: "handler crashed", error: String(error), requestId: event.requestContext.requestId }));
      result = { statusCode: 500, headers: { "content-type": "application/json" }, body: JSON.stringify({ message: "Internal Server Error" }) };
    }
    writeResult(res, result, event.requestContext.requestId);
  };
}

/** A sink that streams a handler's answer to the client as it is written (no buffering). */
function responseSink(res: ServerResponse, requestId: string): ResponseSink {
  let started = false;
  return {
    head(statusCode, headers) {
      started = true;
      res.writeHead(statusCode, { ...CORS_HEADERS, "apigw-requestid": requestId, ...headers });
      res.flushHeaders();
    },
    write(chunk) {
      if (!started) this.head(200, { "content-type": "application/octet-stream" });
      res.write(chunk);
    },
    end() {
      if (!started) this.head(200, {});
      res.end();
    },
    get started() {
      return started;
    },
  };
}

const TEXTUAL = /^(application\/(json|([\w.+-]+\+json)|x-www-form-urlencoded|xml|javascript)|text\/)/i;

function toEvent(
  req: IncomingMessage,
  url: URL,
  method: string,
  body: Buffer,
  routeKey: string,
  pathParameters: Record<string, string> | undefined,
  domainName: string,
): APIGatewayProxyEventV2 {
  // Payload 2.0 joins repeated headers with commas and lowercases names; cookies move to `cookies`.
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name === "cookie") continue;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) query[name] = name in query ? `${query[name]},${value}` : value;
  const now = new Date();
  const contentType = headers["content-type"] ?? "";
  const textual = body.length === 0 || contentType === "" || TEXTUAL.test(contentType);
  const requestId = randomUUID();
  return {
    version: "2.0",
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(req.headers.cookie ? { cookies: req.headers.cookie.split(/;\s*/) } : {}),
    headers,
    ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
    ...(pathParameters && Object.keys(pathParameters).length ? { pathParameters } : {}),
    requestContext: {
      accountId: "000000000000",
      apiId: "local",
      domainName,
      domainPrefix: domainName.split(".")[0] ?? domainName,
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
        userAgent: headers["user-agent"] ?? "",
      },
      requestId,
      routeKey,
      stage: "$default",
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length ? { body: textual ? body.toString("utf8") : body.toString("base64") } : {}),
    isBase64Encoded: !textual,
  };
}

function writeResult(res: ServerResponse, result: APIGatewayProxyResultV2, requestId: string): void {
  // Payload 2.0: a result without statusCode is a 200 JSON body (API Gateway's inference rule).
  const structured: APIGatewayProxyStructuredResultV2 =
    typeof result === "object" && result !== null && "statusCode" in result
      ? result
      : { statusCode: 200, headers: { "content-type": "application/json" }, body: JSON.stringify(result) };
  const headers: Record<string, string | string[]> = { ...CORS_HEADERS, "apigw-requestid": requestId };
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name.toLowerCase()] = String(value);
  if (structured.cookies?.length) headers["set-cookie"] = structured.cookies;
  const body = structured.body ?? "";
  const bytes = structured.isBase64Encoded ? Buffer.from(body, "base64") : Buffer.from(body, "utf8");
  headers["content-length"] = String(bytes.length);
  res.writeHead(structured.statusCode ?? 200, headers);
  res.end(bytes);
}
