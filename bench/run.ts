/**
 * `npm run bench` runs every bench/*.bench.ts one after the other (never in parallel: they would
 * measure each other); `npm run bench -- classifier chat` runs those whose name contains a word.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const filters = process.argv.slice(2);
const benches = readdirSync(import.meta.dirname)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
  .sort();
if (!benches.length) {
  console.error(`No bench matches ${filters.join(", ")}.`);
  process.exit(2);
}
let failed = 0;
for (const bench of benches) {
  console.log(`\n== ${bench} ==`);
  const run = spawnSync(process.execPath, ["--import", "tsx", join(import.meta.dirname, bench)], { stdio: "inherit" });
  if (run.status !== 0) failed += 1;
}
process.exit(failed ? 1 : 0);
