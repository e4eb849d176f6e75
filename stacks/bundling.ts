import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, parse } from "node:path";
import { gzipSync } from "node:zlib";
import type { BuildOptions, Plugin } from "esbuild";

/**
 * How every function is bundled: the `nodejs` props the stacks give SST (FUNCTION_DEFAULTS), and the
 * same esbuild options SST derives from them (sst/runtime/handlers/node.js), so that
 * `npm run build:functions` (tools/build-functions.ts) writes byte for byte what `sst deploy` uploads.
 * test/stacks/bundles.test.ts holds the two together against a synthesized app.
 */

const require = createRequire(import.meta.url);

/**
 * zod's `z` namespace re-exports all of its locales (`export * as locales`), so every bundle would
 * carry 64 translations of its error messages (373 kB) although only English is ever configured
 * (zod itself calls `config(en())`). This resolves the locales index inside zod to a module that
 * exports English only; `z.locales.en` keeps working, any other locale is a build error, not a silent
 * fallback.
 */
export const englishOnlyZod: Plugin = {
  name: "agentorg-zod-english-only",
  setup(build) {
    const localesDir = join(dirname(require.resolve("zod/package.json")), "v4", "locales");
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.resolveDir.startsWith(dirname(localesDir)) ? { path: join(localesDir, "index.js"), namespace: "zod-locales" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-locales" }, () => ({
      contents: `export { default as en } from ${JSON.stringify(join(localesDir, "en.js"))};\n`,
      resolveDir: localesDir,
      loader: "js",
    }));
  },
};

/** JSON modules at least this large are shipped compressed (gzipJson). */
export const GZIP_JSON_BYTES = 64 * 1024;

/**
 * Large JSON modules (the router's weights, 190 kB of numbers) go into the bundle gzipped and base64
 * encoded, unpacked and parsed once when the module loads (a few milliseconds; `JSON.parse` of a
 * string is also quicker than evaluating the same object literal). The text parsed is the file's own,
 * so every number is exactly what the source gets. Smaller JSON stays as esbuild inlines it.
 */
export const gzipJson: Plugin = {
  name: "agentorg-gzip-json",
  setup(build) {
    build.onLoad({ filter: /\.json$/ }, (args) => {
      const text = readFileSync(args.path, "utf8");
      if (Buffer.byteLength(text) < GZIP_JSON_BYTES) return undefined;
      const packed = gzipSync(JSON.stringify(JSON.parse(text)), { level: 9 }).toString("base64");
      return {
        contents: `import { gunzipSync } from "node:zlib";\nexport default JSON.parse(gunzipSync(Buffer.from(${JSON.stringify(packed)}, "base64")).toString("utf8"));\n`,
        loader: "js",
      };
    });
  },
};

/**
 * Packages left to the Lambda runtime's own AWS SDK (nodejs22.x ships v3) instead of the bundle.
 *
 * The clients on a request's path (DynamoDB, the @connections API) are bundled: minified into the
 * function they start faster than the runtime's copy loaded from its node_modules (bench/bundles.bench.ts
 * measures both, BENCHMARKS.md "Bundles"), and their version is the one the tests ran against. The SSM
 * client is not: its one module of every command's schemas (245 kB minified, no tree-shaking) would be
 * a quarter of the chat function, for one GetParameter per cold start, and only when a model endpoint
 * or the audit consumer has a key to read (functions/lib/audit-key.ts imports it dynamically). Nor is
 * the SQS client: only functions off the request path use it (the work queue's dispatcher and worker,
 * the stream redrives), where its 25 kB counted against the worker's 1 MB and a cold start's few ms do
 * not (the worker runs up to 15 minutes), and it speaks a protocol every v3 release understands.
 */
export const RUNTIME_PROVIDED = ["@aws-sdk/client-ssm", "@aws-sdk/client-sqs"];

export const NODEJS_BUNDLING = {
  format: "esm" as const,
  minify: true,
  // Source maps would double the asset and are read only when an error's stack is printed; the
  // functions log errors by name and message (functions/lib/logger.ts), so none ship.
  sourcemap: false,
  esbuild: {
    plugins: [englishOnlyZod, gzipJson],
    external: RUNTIME_PROVIDED,
    // SST keeps function and class names through minification (5% of a bundle). Nothing here depends
    // on them: errors are told apart by `name` properties the SDKs set themselves, or by instanceof.
    // (The one visible effect: the openai SDK's User-Agent names its minified class.)
    keepNames: false,
  },
};

/** SST's banner for ESM bundles: `require`, `__dirname` for CommonJS dependencies. */
const ESM_BANNER = [
  `import { createRequire as topLevelCreateRequire } from 'module';`,
  `const require = topLevelCreateRequire(import.meta.url);`,
  `import { fileURLToPath as topLevelFileUrlToPath, URL as topLevelURL } from "url"`,
  `const __dirname = topLevelFileUrlToPath(new topLevelURL(".", import.meta.url))`,
  "",
].join("\n");

/**
 * The esbuild options SST v2 (2.49.8, mode "deploy") uses for a Node.js function with
 * NODEJS_BUNDLING, for the handler's file (`functions/http/tickets.ts`), writing to `outfile`.
 */
export function esbuildOptionsFor(file: string, outfile: string): BuildOptions {
  const { esbuild: { external, ...esbuild }, ...nodejs } = NODEJS_BUNDLING;
  const sst: BuildOptions = {
    entryPoints: [file],
    platform: "node",
    external: ["sharp", "pg-native", ...external],
    bundle: true,
    logLevel: "silent",
    metafile: true,
    format: "esm",
    target: "esnext",
    mainFields: ["module", "main"],
    banner: { js: ESM_BANNER },
    outfile,
    sourcemap: nodejs.sourcemap,
    minify: nodejs.minify,
    keepNames: true,
  };
  // SST spreads `nodejs.esbuild` over its own options last, as here (NODEJS_BUNDLING turns keepNames off).
  return { ...sst, ...esbuild };
}

/** The handler's source file (`functions/http/tickets.list` → `functions/http/tickets.ts`). */
export function handlerFile(handler: string): string {
  const { dir, name } = parse(handler);
  return join(dir, `${name}.ts`);
}

/** Where SST puts the bundle inside the asset (`functions/http/tickets.list` → `functions/http/tickets.mjs`). */
export function assetEntry(handler: string): string {
  const { dir, name } = parse(handler);
  return join(dir, `${name}.mjs`);
}

/** A deployed function: its name (after its route: `HttpGETapiv1tickets`, `Wsconnect`) and its SST handler string. */
export interface DeployedFunction {
  id: string;
  handler: string;
}

/** The construct id the stacks derive from a name (`GET /api/v1/x` → `GETapiv1x`). */
export function constructId(name: string): string {
  return name.replace(/[^A-Za-z0-9]/g, "");
}

/**
 * Every function the stacks deploy, in manifest order, named after its route (HTTP routes, the
 * `$default` route, WebSocket routes, stream consumers and their redrives, scheduled functions, queue workers). test/stacks/bundles.test.ts
 * checks the handlers against a synthesized app, so a function added to the stacks but not here fails.
 */
export function deployedFunctions(manifest: {
  httpRoutes: readonly { method: string; path: string; handler: string; streamHandler?: string }[];
  fallback: { handler: string };
  wsRoutes: readonly { routeKey: string; handler: string }[];
  streams: readonly { name: string; handler: string; redrive?: { handler: string } }[];
  scheduled: readonly { name: string; handler: string }[];
  queues?: readonly { name: string; handler: string; deadLetter: { name: string; handler: string } }[];
}): DeployedFunction[] {
  const consumers = manifest.streams.flatMap((consumer) => {
    const id = `Consumer${constructId(consumer.name)}`;
    return [{ id, handler: consumer.handler }, ...(consumer.redrive ? [{ id: `${id}Redrive`, handler: consumer.redrive.handler }] : [])];
  });
  return [
    ...manifest.httpRoutes.map((route) => ({ id: `Http${constructId(`${route.method} ${route.path}`)}`, handler: route.streamHandler ?? route.handler })),
    { id: "HttpDefault", handler: manifest.fallback.handler },
    ...manifest.wsRoutes.map((route) => ({ id: `Ws${constructId(route.routeKey)}`, handler: route.handler })),
    ...consumers,
    ...manifest.scheduled.map((spec) => ({ id: `Scheduled${constructId(spec.name)}`, handler: spec.handler })),
    ...(manifest.queues ?? []).flatMap((spec) => [
      { id: `Worker${constructId(spec.name)}`, handler: spec.handler },
      { id: `Worker${constructId(spec.deadLetter.name)}`, handler: spec.deadLetter.handler },
    ]),
  ];
}
