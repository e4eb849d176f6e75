import { resetConfig } from "../config";

/**
 * Per-domain composition (this folder): each module wires the adapters and use cases of one part of
 * the platform, lazily, once per warm function instance, so a function bundles and constructs only
 * what its routes use (a ticket route never loads `openai`, the router's weights or the SSM client).
 * A module imports the ones it builds on (access.ts, table.ts); nothing imports them all.
 */

const resets = new Set<() => void>();

/** A value built on first use and kept for the instance's life (until `coldStart`). */
export function lazy<T>(build: () => T, dispose?: (value: T) => void): () => T {
  let value: T | undefined;
  resets.add(() => {
    if (value !== undefined) dispose?.(value);
    value = undefined;
  });
  return () => (value ??= build());
}

/**
 * A fresh cold start for the next invocation: the local runtime calls this after it sets the
 * functions' environment (a platform restarted in the same process gets a new DynamoDB endpoint).
 */
export function coldStart(): void {
  for (const reset of resets) reset();
  resetConfig();
}
