/**
 * Bundle size and import time of every deployed function, against a floor: a handler that only
 * imports `@aws-sdk/client-dynamodb` and `@aws-sdk/lib-dynamodb` (bench/fixtures/floor-handler.ts),
 * bundled the same way (stacks/bundling.ts). Import time is what a cold start pays before the handler
 * runs: each sample is a fresh Node.js process that imports the bundle, measured inside it (wall time
 * and CPU time of the `import()`), the floor and the functions interleaved so drift hits all alike.
 *
 * Also measured: the same functions with the AWS SDK left out of the bundle and loaded from
 * node_modules instead, standing in for the SDK the Lambda runtime provides.
 *
 * Goals (issue 11): every bundle ≤ 1 MB; median import ≤ 1.5× the floor; worst ≤ 3×.
 * `npm run bench -- bundles` (SAMPLES=n to change the number of samples per bundle).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import esbuild from "esbuild";
import { buildFunctions } from "../tools/build-functions";
import { esbuildOptionsFor } from "../stacks/bundling";
import { median, printTable, writeResult } from "./lib";

const SAMPLES = Number(process.env.SAMPLES ?? 9);
const MB = 1_000_000;

const scratch = mkdtempSync(join(tmpdir(), "agentorg-bundles-"));
const probe = join(scratch, "probe.mjs");
writeFileSync(
  probe,
  `const t = process.hrtime.bigint(); const c = process.cpuUsage();
await import(process.argv[2]);
const u = process.cpuUsage(c);
process.stdout.write(JSON.stringify({ wallMs: Number(process.hrtime.bigint() - t) / 1e6, cpuMs: (u.user + u.system) / 1e3 }));`,
);

/** One import of `file` in a fresh process. */
function importOnce(file: string): { wallMs: number; cpuMs: number } {
  const run = spawnSync(process.execPath, [probe, file], { encoding: "utf8", cwd: resolve(".") });
  if (run.status !== 0) throw new Error(`import of ${file} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { wallMs: number; cpuMs: number };
}

async function bundle(entry: string, outfile: string, external: string[] = []): Promise<string> {
  const options = esbuildOptionsFor(entry, outfile);
  await esbuild.build({ ...options, external: [...(options.external ?? []), ...external] });
  return outfile;
}

const built = await buildFunctions(join(scratch, "functions"));
const floor = await bundle("bench/fixtures/floor-handler.ts", join(scratch, "floor.mjs"));

// One sample per distinct bundle (functions in the same handler file share one).
const distinct = new Map<string, { file: string; ids: string[]; bytes: number; handler: string }>();
for (const fn of built) {
  const entry = distinct.get(fn.sha256) ?? { file: join(scratch, "functions", fn.id, "index.mjs"), ids: [], bytes: fn.bytes, handler: fn.handler };
  entry.ids.push(fn.id);
  distinct.set(fn.sha256, entry);
}
// The runtime-provided SDK stand-in: the same entries with @aws-sdk/* external (resolved from node_modules).
const unbundledSdk = new Map<string, string>();
for (const [sha, entry] of distinct) {
  const source = entry.handler.replace(/\.[^.]+$/, ".ts");
  unbundledSdk.set(sha, await bundle(source, join(resolve("."), ".bench-sdk-external", `${sha.slice(0, 12)}.mjs`), ["@aws-sdk/*", "@smithy/*"]));
}
const floorExternal = await bundle("bench/fixtures/floor-handler.ts", join(resolve("."), ".bench-sdk-external", "floor.mjs"), ["@aws-sdk/*", "@smithy/*"]);

const samples = new Map<string, { wallMs: number[]; cpuMs: number[] }>();
const record = (key: string, file: string) => {
  const s = samples.get(key) ?? { wallMs: [], cpuMs: [] };
  const one = importOnce(file);
  s.wallMs.push(one.wallMs);
  s.cpuMs.push(one.cpuMs);
  samples.set(key, s);
};
for (let i = 0; i < SAMPLES; i++) {
  record("floor", floor);
  record("floor:sdk-external", floorExternal);
  for (const [sha, entry] of distinct) {
    record(sha, entry.file);
    record(`${sha}:sdk-external`, unbundledSdk.get(sha)!);
  }
}
rmSync(join(resolve("."), ".bench-sdk-external"), { recursive: true, force: true });

const floorMs = median(samples.get("floor")!.wallMs);
const floorExternalMs = median(samples.get("floor:sdk-external")!.wallMs);
const rows = [...distinct].map(([sha, entry]) => {
  const s = samples.get(sha)!;
  const external = samples.get(`${sha}:sdk-external`)!;
  return {
    bundle: entry.handler.replace(/\.[^.]+$/, ""),
    functions: entry.ids.length,
    kB: Math.round(entry.bytes / 1000),
    importMs: median(s.wallMs),
    cpuMs: median(s.cpuMs),
    xFloor: median(s.wallMs) / floorMs,
    sdkExternalMs: median(external.wallMs),
  };
});
rows.sort((a, b) => b.xFloor - a.xFloor);
const floorBytes = readFileSync(floor).length;
printTable([{ bundle: "FLOOR (DynamoDB clients only)", functions: 0, kB: Math.round(floorBytes / 1000), importMs: floorMs, cpuMs: median(samples.get("floor")!.cpuMs), xFloor: 1, sdkExternalMs: floorExternalMs }, ...rows]);

// Per function (what the goals count): each deployed function with its bundle's figures.
const perFunction = built.map((fn) => ({ id: fn.id, bytes: fn.bytes, xFloor: median(samples.get(fn.sha256)!.wallMs) / floorMs }));
const ratios = perFunction.map((f) => f.xFloor);
const summary = {
  functions: built.length,
  distinctBundles: distinct.size,
  floorBytes,
  floorImportMs: floorMs,
  largestBytes: Math.max(...built.map((b) => b.bytes)),
  medianBytes: median(built.map((b) => b.bytes)),
  medianXFloor: median(ratios),
  worstXFloor: Math.max(...ratios),
  sdkBundledMedianMs: median(rows.map((r) => r.importMs)),
  sdkExternalMedianMs: median(rows.map((r) => r.sdkExternalMs)),
  goals: {
    everyBundleUnder1MB: built.every((b) => b.bytes <= MB),
    medianAtMost1_5xFloor: median(ratios) <= 1.5,
    worstAtMost3xFloor: Math.max(...ratios) <= 3,
  },
};
console.log(`\n${JSON.stringify(summary, null, 2)}`);
writeResult("bundles", { samples: SAMPLES, summary, bundles: rows, perFunction });
rmSync(scratch, { recursive: true, force: true });
