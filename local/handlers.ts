import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "..");
const cache = new Map<string, Promise<(...args: never[]) => unknown>>();

/**
 * Loads a handler named as SST names it (`functions/http/organizations.create`): the same string the
 * stacks deploy, so the local gateways run exactly the deployed code.
 */
export function loadHandler<F = (event: unknown) => Promise<unknown>>(spec: string): Promise<F> {
  let loaded = cache.get(spec);
  if (!loaded) {
    const dot = spec.lastIndexOf(".");
    const file = spec.slice(0, dot);
    const name = spec.slice(dot + 1);
    loaded = import(pathToFileURL(resolve(root, `${file}.ts`)).href).then((module: Record<string, unknown>) => {
      const fn = module[name];
      if (typeof fn !== "function") throw new Error(`Handler ${spec}: ${file}.ts has no function export '${name}'`);
      return fn as (...args: never[]) => unknown;
    });
    cache.set(spec, loaded);
  }
  return loaded as Promise<F>;
}
