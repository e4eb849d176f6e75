/**
 * The part of Lambda's invocation context the wrappers use. Lambda passes its context as the handler's
 * second argument (third for a streamified one); the local runtime passes one with the same meaning
 * (local/invocation-context.ts): the route's configured timeout, counted from the invocation's start.
 */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

/** Is this a context (rather than a response sink or nothing)? */
export function isInvocationContext(value: unknown): value is InvocationContext {
  return typeof (value as { getRemainingTimeInMillis?: unknown } | undefined)?.getRemainingTimeInMillis === "function";
}

/**
 * The invocation's deadline as an absolute time (epoch ms), which is what core takes (it knows no
 * Lambda types). Undefined without a context (a handler called directly, as in a unit test).
 */
export function deadlineOf(context: unknown, now: number = Date.now()): number | undefined {
  return isInvocationContext(context) ? now + Math.max(0, context.getRemainingTimeInMillis()) : undefined;
}
