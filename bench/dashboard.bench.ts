/**
 * Dashboard: the initial JavaScript a first visit downloads (gzip), and the console's time to
 * interactive in Chromium against the local stack, next to the sign-in page (the shell alone, no API
 * call) measured in the same run.
 *
 * - Initial JS: the entry script of web/dist/index.html and every chunk it preloads, gzip level 6 (what
 *   a CDN serves); the views are lazy chunks, listed separately.
 * - Time to interactive (TTI): a fresh browser context (cold cache) per round, already signed in
 *   (the key in sessionStorage), opening #/agents: the time from navigation start until the hierarchy
 *   is on screen and the main thread has had no long task (> 50 ms) since, as Lighthouse defines
 *   TTI's quiet window (measured here from the last long task, not over a 5 s window). FCP is quoted too.
 *
 * Run: npm run bench -- dashboard   (needs `npm run build:web` and Debian's chromium; writes bench/results/dashboard.json)
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { chromium, type Browser } from "playwright-core";
import { CHROMIUM, FLAGS, WEB_DIST } from "../test/e2e/support/browser";
import { median, percentile, printTable, writeResult } from "./lib";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
process.env.POWERTOOLS_LOG_LEVEL = "SILENT";
// Imported after the log level is set: the handlers' loggers read it when their modules load.
const { startPlatform } = await import("../local/platform");

if (!existsSync(join(WEB_DIST, "index.html"))) throw new Error("Build the dashboard first: npm run build:web");

// --- bundle sizes ---------------------------------------------------------------------------------
const html = readFileSync(join(WEB_DIST, "index.html"), "utf8");
const initial = [...html.matchAll(/<script type="module"[^>]*src="([^"]+)"|<link rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => (m[1] ?? m[2])!);
const css = [...html.matchAll(/<link rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]!);
const sizeOf = (path: string) => {
  const bytes = readFileSync(join(WEB_DIST, path.replace(/^\//, "")));
  return { raw: bytes.length, gzip: gzipSync(bytes, { level: 6 }).length };
};
const initialSizes = initial.map((p) => ({ file: p, ...sizeOf(p) }));
const initialGzip = initialSizes.reduce((s, f) => s + f.gzip, 0);
const initialRaw = initialSizes.reduce((s, f) => s + f.raw, 0);
const cssGzip = css.reduce((s, p) => s + sizeOf(p).gzip, 0);
const lazy = readdirSync(join(WEB_DIST, "assets"))
  .filter((f) => f.endsWith(".js") && !initial.some((i) => i.endsWith(f)) && !f.startsWith("docs-"))
  .map((f) => ({ file: f, ...sizeOf(`assets/${f}`) }))
  .sort((a, b) => b.gzip - a.gzip);

console.log("Initial JavaScript (entry + preloaded chunks)");
printTable([...initialSizes.map((f) => ({ file: f.file, "raw KB": f.raw / 1024, "gzip KB": f.gzip / 1024 })), { file: "total", "raw KB": initialRaw / 1024, "gzip KB": initialGzip / 1024 }]);
console.log(`\nCSS: ${(cssGzip / 1024).toFixed(2)} KB gzip. Lazy chunks (loaded with their view):`);
printTable(lazy.map((f) => ({ file: f.file, "raw KB": f.raw / 1024, "gzip KB": f.gzip / 1024 })));

// --- time to interactive --------------------------------------------------------------------------
const platform = await startPlatform({ port: 0, tableName: "agentorg-bench", env: { POWERTOOLS_LOG_LEVEL: "SILENT" } });
const headers = { authorization: `Bearer ${platform.operatorKey}`, "content-type": "application/json" };
const post = async (path: string, body: unknown, key = platform.operatorKey) =>
  (await (await fetch(`${platform.apiUrl}${path}`, { method: "POST", headers: { ...headers, authorization: `Bearer ${key}` }, body: JSON.stringify(body) })).json()) as any;
const org = await post("/organizations", { name: "Bench Corp", tier: "enterprise" });
const key = (await post(`/organizations/${org.id}/api-keys`, { name: "bench" })).secret as string;
// A realistic small organization: 1 CEO, 3 senior managers, 6 managers, 12 team leads, 24 specialists.
const ceo = await post("/agents", { name: "CEO", roleId: "ceo" }, key);
let layer = [ceo.id as string];
for (const [roleId, per] of [["senior-manager", 3], ["manager", 2], ["team-lead", 2], ["specialist", 2]] as const) {
  const next: string[] = [];
  for (const manager of layer) for (let i = 0; i < (roleId === "senior-manager" ? per : per); i++) next.push((await post("/agents", { name: `${roleId} ${next.length + 1}`, roleId, managerId: manager }, key)).id);
  layer = next;
}

interface Sample {
  fcp: number;
  ready: number;
  tti: number;
  longTasks: number;
}

async function measure(browser: Browser, hash: string, selector: string): Promise<Sample> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(
    ([k, sel]) => {
      sessionStorage.setItem("agentorg.key", k!);
      const w = window as unknown as { __ready?: number; __longTaskEnd: number; __longTasks: number };
      w.__longTaskEnd = 0;
      w.__longTasks = 0;
      // No named inner functions here: tsx would wrap them in a helper the page does not have.
      new MutationObserver(() => {
        if (w.__ready === undefined && document.querySelector(sel!)) w.__ready = performance.now();
      }).observe(document, { childList: true, subtree: true });
      try {
        new PerformanceObserver((list) => {
          for (const entry of list.getEntries()) {
            w.__longTasks++;
            w.__longTaskEnd = Math.max(w.__longTaskEnd, entry.startTime + entry.duration);
          }
        }).observe({ entryTypes: ["longtask"] });
      } catch (error) {
        (w as any).__longTaskError = String(error);
      }
    },
    [key, selector],
  );
  await page.goto(`${platform.url}/${hash}`);
  await page.waitForFunction(() => (window as any).__ready !== undefined, undefined, { polling: 50, timeout: 30_000 });
  // Give a trailing long task, if any, time to be reported.
  await page.waitForTimeout(300);
  const result = await page.evaluate(() => {
    const w = window as any;
    const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN;
    return { fcp, ready: w.__ready as number, tti: Math.max(w.__ready as number, w.__longTaskEnd as number), longTasks: w.__longTasks as number };
  });
  await context.close();
  return result;
}

const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
const consoleSamples: Sample[] = [];
const shellSamples: Sample[] = [];
await measure(browser, "#/agents", 'ul[aria-label="Agent hierarchy"]'); // warm-up (server side)
for (let round = 0; round < ROUNDS; round++) {
  consoleSamples.push(await measure(browser, "#/agents", 'ul[aria-label="Agent hierarchy"] li'));
  shellSamples.push(await measureShell(browser));
}
await browser.close();
await platform.stop();

/** The sign-in page alone: same HTML, entry script and CSS, no API call. */
async function measureShell(b: Browser): Promise<Sample> {
  const context = await b.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.addInitScript(() => {
    new MutationObserver(() => {
      const w = window as any;
      if (w.__ready === undefined && document.querySelector("#api-key")) w.__ready = performance.now();
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(platform.url);
  await page.waitForFunction(() => (window as any).__ready !== undefined, undefined, { polling: 50, timeout: 30_000 });
  const result = await page.evaluate(() => {
    const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN;
    return { fcp, ready: (window as any).__ready as number, tti: (window as any).__ready as number, longTasks: 0 };
  });
  await context.close();
  return result;
}

const stat = (samples: Sample[], field: keyof Sample) => ({ p50: median(samples.map((s) => s[field])), p99: percentile(samples.map((s) => s[field]), 0.99) });
const rows = [
  { page: "sign-in (shell only)", "FCP p50 ms": stat(shellSamples, "fcp").p50, "ready p50 ms": stat(shellSamples, "ready").p50, "TTI p50 ms": stat(shellSamples, "tti").p50, "TTI p99 ms": stat(shellSamples, "tti").p99 },
  { page: "console #/agents (46 agents)", "FCP p50 ms": stat(consoleSamples, "fcp").p50, "ready p50 ms": stat(consoleSamples, "ready").p50, "TTI p50 ms": stat(consoleSamples, "tti").p50, "TTI p99 ms": stat(consoleSamples, "tti").p99 },
];
console.log(`\nTime to interactive, Chromium ${CHROMIUM}, cold cache, ${ROUNDS} rounds`);
printTable(rows);
writeResult("dashboard", {
  rounds: ROUNDS,
  initialJs: { files: initialSizes, rawBytes: initialRaw, gzipBytes: initialGzip, targetGzipBytes: 150 * 1024 },
  cssGzipBytes: cssGzip,
  lazyChunks: lazy,
  timeToInteractiveMs: {
    console: { fcp: stat(consoleSamples, "fcp"), ready: stat(consoleSamples, "ready"), tti: stat(consoleSamples, "tti"), longTasks: median(consoleSamples.map((s) => s.longTasks)) },
    signIn: { fcp: stat(shellSamples, "fcp"), ready: stat(shellSamples, "ready") },
    ratioConsoleToShell: stat(consoleSamples, "tti").p50 / stat(shellSamples, "ready").p50,
  },
  samples: { console: consoleSamples, signIn: shellSamples },
});
