import type { ScheduledFunctionSpec } from "../functions/manifest.types";
import { loadHandler } from "./handlers";
import { invocationContext, type TimeoutOf } from "./invocation-context";
import { runAs } from "./permission-guard";

type ScheduledHandler = (event: unknown, context: unknown) => Promise<unknown>;

/**
 * The local stand-in for the EventBridge Rules of scheduled functions (stacks/stream.ts): each
 * function runs every `everyMinutes`, in this process, with a context whose remaining time is its
 * timeout, and never twice at once (a run still going when the next is due makes that one wait).
 * `run(name)` runs one now (tests, and an operator who does not want to wait).
 */
export function createScheduler({ functions, timeoutOf }: { functions: readonly ScheduledFunctionSpec[]; timeoutOf: TimeoutOf }) {
  const timers: NodeJS.Timeout[] = [];
  const running = new Map<string, Promise<unknown>>();

  async function invoke(spec: ScheduledFunctionSpec): Promise<unknown> {
    const handler = await loadHandler<ScheduledHandler>(spec.handler);
    // As the function: its DynamoDB commands are held to its declared permissions (local/permission-guard.ts).
    return runAs({ function: spec.handler, permissions: [...spec.permissions] }, () =>
      handler({ source: "aws.events", "detail-type": "Scheduled Event", detail: {} }, invocationContext(spec.name, timeoutOf(spec))),
    );
  }

  /** One run of `spec`, after the one in progress if any. */
  function run(spec: ScheduledFunctionSpec): Promise<unknown> {
    const previous = running.get(spec.name) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => invoke(spec));
    running.set(spec.name, next);
    void next.finally(() => {
      if (running.get(spec.name) === next) running.delete(spec.name);
    }).catch(() => undefined);
    return next;
  }

  return {
    start() {
      for (const spec of functions) {
        const timer = setInterval(() => {
          run(spec).catch((error: unknown) => console.error(JSON.stringify({ level: "ERROR", message: "scheduled function failed", name: spec.name, error: String(error) })));
        }, spec.everyMinutes * 60_000);
        timer.unref();
        timers.push(timer);
      }
    },
    /** Runs the named function now and returns what its handler returned. */
    run(name: string): Promise<unknown> {
      const spec = functions.find((f) => f.name === name);
      if (!spec) return Promise.reject(new Error(`No scheduled function is named ${name}.`));
      return run(spec);
    },
    async stop() {
      for (const timer of timers.splice(0)) clearInterval(timer);
      await Promise.all([...running.values()].map((p) => p.catch(() => undefined)));
    },
  };
}
