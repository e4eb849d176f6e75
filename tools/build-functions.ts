/**
 * `npm run build:functions`: bundles every deployed function as `sst deploy` does, into
 * `dist/functions/<function>/index.mjs` (named after its route, e.g. `HttpGETapiv1tickets`), and
 * writes `dist/functions/manifest.json` (per function: handler, SST's path of the entry inside the
 * asset, bytes, gzip bytes, SHA-256, and the largest inputs).
 *
 * The bytes are SST's: the same esbuild, the same options (stacks/bundling.ts); only the entry's name
 * differs (SST names it after the handler's file, `functions/http/tickets.mjs`, and its handler string
 * points there). test/stacks/bundles.test.ts compares the two against a synthesized app.
 *
 * Functions whose handlers live in the same file share one bundle; each is built once.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import esbuild from "esbuild";
import { fallback, httpRoutes, queues, scheduled, streams, wsRoutes } from "../functions/routes";
import { assetEntry, deployedFunctions, esbuildOptionsFor, handlerFile } from "../stacks/bundling";

export interface BuiltFunction {
  id: string;
  handler: string;
  /** The entry's path inside the asset SST uploads. */
  assetEntry: string;
  bytes: number;
  gzipBytes: number;
  sha256: string;
  /** The largest inputs by bytes in the output, for finding what makes a bundle big. */
  largestInputs: { path: string; bytes: number }[];
}

/** Builds every deployed function into `outDir`; returns what it wrote. */
export async function buildFunctions(outDir = resolve("dist/functions"), options: { log?: (line: string) => void } = {}): Promise<BuiltFunction[]> {
  const log = options.log ?? (() => undefined);
  rmSync(outDir, { recursive: true, force: true });
  const functions = deployedFunctions({ httpRoutes, fallback, wsRoutes, streams, scheduled, queues });
  const scratch = join(outDir, ".files");
  const byFile = new Map<string, Promise<{ code: Buffer; largestInputs: BuiltFunction["largestInputs"] }>>();
  const bundle = (file: string) => {
    let pending = byFile.get(file);
    if (!pending) {
      const outfile = join(scratch, file.replace(/\.ts$/, ".mjs"));
      pending = esbuild.build(esbuildOptionsFor(file, outfile)).then((result) => {
        const output = Object.values(result.metafile!.outputs)[0]!;
        const largestInputs = Object.entries(output.inputs)
          .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
          .sort((a, b) => b.bytes - a.bytes)
          .slice(0, 8);
        return { code: readFileSync(outfile), largestInputs };
      });
      byFile.set(file, pending);
    }
    return pending;
  };

  const built: BuiltFunction[] = [];
  for (const fn of functions) {
    const { code, largestInputs } = await bundle(handlerFile(fn.handler));
    const dir = join(outDir, fn.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "index.mjs"), code);
    built.push({
      id: fn.id,
      handler: fn.handler,
      assetEntry: assetEntry(fn.handler),
      bytes: code.length,
      gzipBytes: gzipSync(code).length,
      sha256: createHash("sha256").update(code).digest("hex"),
      largestInputs,
    });
    log(`${fn.id.padEnd(48)} ${(code.length / 1024).toFixed(0).padStart(6)} kB  ${fn.handler}`);
  }
  rmSync(scratch, { recursive: true, force: true });
  writeFileSync(join(outDir, "manifest.json"), `${JSON.stringify(built, null, 2)}\n`);
  return built;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const built = await buildFunctions(undefined, { log: (line) => console.log(line) });
  const largest = Math.max(...built.map((b) => b.bytes));
  console.log(`\n${built.length} functions (${new Set(built.map((b) => b.sha256)).size} distinct bundles) in dist/functions, largest ${(largest / 1024).toFixed(0)} kB, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
