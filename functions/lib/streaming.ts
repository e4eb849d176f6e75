import type { APIGatewayProxyEventV2 } from "aws-lambda";
import type { Writable } from "node:stream";
import type { HttpRouteSpec } from "../manifest.types";
import { type Request, prepare } from "./http";
import { logger } from "./logger";
import { problemOf, problemResponse } from "./problem";

/** Where a streaming handler writes: a status and headers first, then pieces of the body. */
export interface ResponseSink {
  head(statusCode: number, headers: Record<string, string>): void;
  write(chunk: string): void;
  end(): void;
  /** Whether `head` was called: after it, an error can only be reported inside the body. */
  readonly started: boolean;
}

/** The local gateway's (and tests') way to call a streaming handler. */
export type StreamingHandler = ((event: APIGatewayProxyEventV2, sink: ResponseSink) => Promise<void>) & { streaming: true };

interface LambdaGlobal {
  streamifyResponse(handler: (event: APIGatewayProxyEventV2, stream: Writable) => Promise<void>): unknown;
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
 * In AWS the handler runs behind a Lambda function URL with response streaming (API Gateway HTTP APIs
 * buffer responses); locally the gateway hands it a sink over the HTTP response.
 */
export function streamingHttp<R extends HttpRouteSpec>(
  route: R,
  logic: (request: Request<R>, sink: ResponseSink) => Promise<void>,
): StreamingHandler {
  const run = async (event: APIGatewayProxyEventV2, sink: ResponseSink) => {
    const requestId = event.requestContext?.requestId ?? "unknown";
    logger.appendKeys({ requestId, route: `${route.method} ${route.path}` });
    try {
      const request = await prepare(route, event);
      await logic(request, sink);
      logger.info("request", { method: route.method, path: event.rawPath, streamed: true });
    } catch (error) {
      const problem = problemOf(error, requestId, event.rawPath);
      if (problem.status >= 500) logger.error("request failed", { error: error as Error, status: problem.status });
      if (sink.started) {
        sink.write(`data: ${JSON.stringify({ error: { message: problem.detail, type: problem.code, code: problem.code, param: null, status: problem.status } })}\n\n`);
      } else {
        const response = problemResponse(error, requestId, event.rawPath);
        sink.head(response.statusCode, response.headers as Record<string, string>);
        sink.write(response.body as string);
      }
      sink.end();
    } finally {
      logger.removeKeys(["requestId", "route"]);
    }
  };
  const lambda = (globalThis as { awslambda?: LambdaGlobal }).awslambda;
  if (typeof lambda?.streamifyResponse === "function") return lambda.streamifyResponse((event, stream) => run(event, lambdaSink(lambda, stream))) as StreamingHandler;
  return Object.assign(run, { streaming: true as const });
}
