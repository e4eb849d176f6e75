/**
 * `/health`'s dependency checks. The handler always checks DynamoDB; a runtime can add checks of its
 * own (the local platform: the DynamoDB Local process and the stream poller) through
 * `registerHealthProbe`, so the handler never imports the local runtime.
 */

export type DependencyStatus = "up" | "degraded" | "down";

export interface DependencyHealth {
  name: string;
  /** `down`: requests that need it fail now (503). `degraded`: it works, with something to look at. */
  status: DependencyStatus;
  /** How long the check took. */
  latencyMs: number;
  /** Why it is not up, in a few words. */
  detail?: string;
  /** Check-specific facts (process id, restarts, parked records, last successful poll, ...). */
  info?: Record<string, unknown>;
}

/** What a probe reports; its latency is measured around it. */
export type ProbeResult = Omit<DependencyHealth, "name" | "latencyMs">;
export type HealthProbe = (signal: AbortSignal) => Promise<ProbeResult> | ProbeResult;

/** A check that has not answered by then is reported down: /health itself must answer quickly. */
export const PROBE_TIMEOUT_MS = 1_500;

const probes = new Map<string, HealthProbe>();

/** Adds a named check to /health (replacing one of the same name); returns its removal. */
export function registerHealthProbe(name: string, probe: HealthProbe): () => void {
  probes.set(name, probe);
  return () => {
    if (probes.get(name) === probe) probes.delete(name);
  };
}

/** Runs a probe with a deadline and measures it; a probe that throws or times out is `down`. */
export async function runProbe(name: string, probe: HealthProbe, timeoutMs = PROBE_TIMEOUT_MS): Promise<DependencyHealth> {
  const started = performance.now();
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ProbeResult>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ status: "down", detail: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
  });
  let result: ProbeResult;
  try {
    result = await Promise.race([Promise.resolve().then(() => probe(controller.signal)), deadline]);
  } catch (error) {
    result = { status: "down", detail: error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : "failed" };
  } finally {
    clearTimeout(timer);
  }
  return { name, ...result, latencyMs: Math.round((performance.now() - started) * 10) / 10 };
}

/** Every check, the given ones first, then the registered ones, side by side. */
export function checkDependencies(builtIn: Record<string, HealthProbe>): Promise<DependencyHealth[]> {
  const all = [...Object.entries(builtIn), ...[...probes.entries()].filter(([name]) => !(name in builtIn))];
  return Promise.all(all.map(([name, probe]) => runProbe(name, probe)));
}

/** The overall verdict: down if any check is down, degraded if any is degraded. */
export function overallStatus(dependencies: readonly DependencyHealth[]): "ok" | "degraded" | "down" {
  if (dependencies.some((d) => d.status === "down")) return "down";
  if (dependencies.some((d) => d.status === "degraded")) return "degraded";
  return "ok";
}
