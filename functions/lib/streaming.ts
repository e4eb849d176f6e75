import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Writable } from "node:stream";
import type { LimitState } from "../../core/ratelimit/limiter";
import type { HttpRouteSpec } from "../manifest.types";
import { type Request, fail, prepare } from "./http";
import { deadlineOf, type InvocationContext, isInvocationContext } from "./invocation";
import { logger } from "./logger";
import { openAiErrorOf, problemOf } from "./problem";
import { rateLimitHeaders } from "./rate-limit-headers";

/** Where a streaming handler writes: a status and headers first, then pieces of the body. */
export interface ResponseSink {
  head(statusCode: number, headers: Record<string, string>): void;
  write(chunk: string): void;
  end(): void;
  /** Whether `head` was called: after it, an error can only be reported inside the body. */
  readonly started: boolean;
}

/**
 * A streaming route's handler: with a sink (the local gateway) it streams; without one (API Gateway)
 * it returns the buffered result. `run` is the raw form used by `lambdaStreaming`.
 */
export type StreamingHandler = ((
  event: APIGatewayProxyEventV2,
  sink?: ResponseSink | InvocationContext,
  context?: InvocationContext,
) => Promise<void | { statusCode: number; headers: Record<string, string>; body: string }>) & {
  streaming: true;
  run: (event: APIGatewayProxyEventV2, sink: ResponseSink, context?: InvocationContext) => Promise<void>;
};

interface LambdaGlobal {
  streamifyResponse(handler: (event: APIGatewayProxyEventV2, stream: Writable, context: InvocationContext) => Promise<void>): unknown;
  HttpResponseStream: { from(stream: Writable, meta: { statusCode: number; headers: Record<string, string> }): Writable };
}

/** A sink over Lambda's response stream (function URL with InvokeMode RESPONSE_STREAM). */
function lambdaSink(lambda: LambdaGlobal, stream: Writable): ResponseSink {
  let body: Writable | undefined;
  return {
    head(statusCode, headers) {
      body = lambda.HttpResponseStream.from(stream, { statusCode, headers });
    },
    write(chunk) {
      (body ?? stream).write(chunk);
    },
    end() {
      (body ?? stream).end();
    },
    get started() {
      return body !== undefined;
    },
  };
}

/**
 * Wraps a route whose answer may stream (Server-Sent Events). Same preparation and error mapping as
 * `http`; an error after the head is written becomes a final `data: {"error": ...}` event, the shape
 * OpenAI's clients raise as an API error.
 *
 * Called with a sink (the local gateway), it streams. Called without one (API Gateway's HTTP API,
 * which buffers responses anyway), it collects the answer and returns a payload-2.0 result. For real
 * streaming in AWS, `lambdaStreaming(handler)` exposes it behind a function URL with response streaming.
 *
 * The invocation's context (Lambda's, or the local runtime's) gives the request its deadline: at it a
 * model call ends, a stream that already began ends with an error event, and the reservation is
 * released (core/shared/deadline.ts).
 */
export function streamingHttp<R extends HttpRouteSpec>(
  route: R,
  logic: (request: Request<R>, sink: ResponseSink) => Promise<void>,
): StreamingHandler {
  const run = async (event: APIGatewayProxyEventV2, sink: ResponseSink, context?: InvocationContext) => {
    const requestId = event.requestContext?.requestId ?? "unknown";
    logger.appendKeys({ requestId, route: `${route.method} ${route.path}` });
    const rateLimits: LimitState[] = [];
    const deadline = deadlineOf(context);
    try {
      const request = await prepare(route, event, rateLimits, deadline);
      await logic(request, withRateLimitHeaders(sink, rateLimits));
      logger.info("request", { method: route.method, path: event.rawPath, streamed: true });
    } catch (error) {
      const problem = problemOf(error, requestId, event.rawPath);
      if (sink.started) {
        if (problem.status >= 500) logger.error("request failed", { error: error as Error, status: problem.status });
        sink.write(`data: ${JSON.stringify({ error: { ...(route.openai ? openAiErrorOf(problem) : { message: problem.detail, type: problem.code, code: problem.code, param: null }), status: problem.status } })}\n\n`);
      } else {
        const response = fail(error, requestId, event.rawPath, rateLimits, route.openai === true);
        sink.head(response.statusCode, response.headers as Record<string, string>);
        sink.write(response.body as string);
      }
      sink.end();
    } finally {
      logger.removeKeys(["requestId", "route"]);
    }
  };
  // Lambda calls a buffered handler as (event, context); the local gateway as (event, sink, context).
  const handler = async (event: APIGatewayProxyEventV2, sink?: ResponseSink | InvocationContext, context?: InvocationContext) => {
    if (sink && !isInvocationContext(sink)) return run(event, sink, context);
    const buffered = bufferSink();
    await run(event, buffered, isInvocationContext(sink) ? sink : context);
    return buffered.result();
  };
  return Object.assign(handler, { streaming: true as const, run });
}

/**
 * The route's sink with the RateLimit headers added to its head. They are formatted when the head is
 * written, so limits the logic applied after `prepare` (chat requests and tokens a minute, pushed onto
 * the same list) are reported too.
 */
function withRateLimitHeaders(sink: ResponseSink, rateLimits: LimitState[]): ResponseSink {
  return {
    head: (statusCode, headers) => sink.head(statusCode, { ...rateLimitHeaders(rateLimits), ...headers }),
    write: (chunk) => sink.write(chunk),
    end: () => sink.end(),
    get started() {
      return sink.started;
    },
  };
}

/** A sink that collects the answer into an API Gateway payload-2.0 result. */
function bufferSink(): ResponseSink & { result(): { statusCode: number; headers: Record<string, string>; body: string } } {
  let statusCode = 200;
  let headers: Record<string, string> = {};
  let started = false;
  const chunks: string[] = [];
  return {
    head(status, h) {
      started = true;
      statusCode = status;
      headers = h;
    },
    write(chunk) {
      chunks.push(chunk);
    },
    end() {},
    get started() {
      return started;
    },
    result: () => ({ statusCode, headers, body: chunks.join("") }),
  };
}

/**
 * The same route for a Lambda function URL with InvokeMode RESPONSE_STREAM: `awslambda.streamifyResponse`
 * exists only inside Lambda's Node.js runtime, so elsewhere this returns the local streaming form.
 */
export function lambdaStreaming(handler: StreamingHandler): unknown {
  const lambda = (globalThis as { awslambda?: LambdaGlobal }).awslambda;
  if (typeof lambda?.streamifyResponse !== "function") return handler;
  return lambda.streamifyResponse((event, stream, context) => handler.run(event, lambdaSink(lambda, stream), context));
}
