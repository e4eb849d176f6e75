import { randomUUID } from "node:crypto";
import { functionTimeoutSeconds, type TimedFunctionSpec } from "../functions/manifest.types";
import type { InvocationContext } from "../functions/lib/invocation";

/** The fields of Lambda's context a local invocation has a true value for. */
export interface LocalInvocationContext extends InvocationContext {
  functionName: string;
  awsRequestId: string;
}

/**
 * The timeout of a function run locally, in ms: the one the stacks deploy for it
 * (functions/manifest.types.ts `functionTimeoutSeconds`), unless the platform was started with
 * another one for every route's function (`PlatformOptions.functionTimeoutMs`, for tests of
 * deadlines); scheduled functions keep their own.
 */
export type TimeoutOf = (spec: TimedFunctionSpec) => number;

export const timeoutsOf =
  (override?: number): TimeoutOf =>
  (spec) =>
    spec.timeoutSeconds === undefined && override !== undefined ? override : functionTimeoutSeconds(spec) * 1_000;

/**
 * A context as Lambda gives one to a handler: its remaining time counts down from the function's
 * timeout from the moment the invocation starts, so a handler that derives its deadline from it sees
 * locally what it would see deployed. The local runtime does not kill a handler at zero; the handlers
 * end their own work before it.
 */
export function invocationContext(functionName: string, timeoutMs: number, started: number = Date.now()): LocalInvocationContext {
  return {
    functionName,
    awsRequestId: randomUUID(),
    getRemainingTimeInMillis: () => Math.max(0, started + timeoutMs - Date.now()),
  };
}
