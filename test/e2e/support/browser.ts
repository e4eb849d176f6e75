import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { chromium, type BrowserContext, type Page } from "playwright-core";

/** Debian's Chromium; Playwright drives it through `playwright-core` (no browser download). */
export const CHROMIUM = process.env.AGENTORG_CHROMIUM ?? "/usr/bin/chromium";
export const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };
/**
 * Every run saves its screenshots in a git-ignored folder; `npm run screenshots` (UPDATE_SCREENSHOTS=1)
 * writes the committed ones the README shows, so an ordinary test run leaves the work tree clean.
 */
export const SCREENSHOTS = resolve(import.meta.dirname, process.env.UPDATE_SCREENSHOTS === "1" ? "../screenshots" : "../.screenshots");
export const WEB_DIST = resolve(import.meta.dirname, "../../../web/dist");

/** Waits for Chromium while its apt install is still running (CI installs it before the tests). */
async function waitForChromium(): Promise<void> {
  const log = "/tmp/chromium-install.log";
  const deadline = Date.now() + 5 * 60_000;
  while (!existsSync(CHROMIUM)) {
    const installing = existsSync(log) && Date.now() - statSync(log).mtimeMs < 60_000;
    if (!installing || Date.now() > deadline) throw new Error(`Chromium not found at ${CHROMIUM}: install Debian's chromium package (apt-get install chromium).`);
    await sleep(2000);
  }
}

export interface Browser {
  context: BrowserContext;
  /** A new tab (its own sessionStorage) that records console errors and page errors. */
  page(viewport?: { width: number; height: number }): Promise<TrackedPage>;
  close(): Promise<void>;
}

export interface TrackedPage {
  page: Page;
  /** Console errors and uncaught exceptions so far. */
  errors: string[];
}

/** Launches Chromium with a fresh profile. Fails if the dashboard has not been built. */
export async function launch(): Promise<Browser> {
  if (!existsSync(join(WEB_DIST, "index.html"))) throw new Error("web/dist is missing: run `npm run build:web` first (npm test does).");
  await waitForChromium();
  const profile = mkdtempSync(join(tmpdir(), "agentorg-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: DESKTOP,
    deviceScaleFactor: 1,
  });
  return {
    context,
    async page(viewport = DESKTOP) {
      const page = await context.newPage();
      await page.setViewportSize(viewport);
      const errors: string[] = [];
      page.on("console", (message) => {
        if (message.type() === "error") errors.push(`console: ${message.text()} (${message.location().url})`);
      });
      page.on("pageerror", (error) => errors.push(`page error: ${error.message}`));
      return { page, errors };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the form, as a person does, and waits for the console's navigation. */
export async function signIn(page: Page, baseUrl: string, key: string): Promise<void> {
  await page.goto(baseUrl);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Main" }).waitFor();
}

const require = createRequire(import.meta.url);
const axeSource: string = (require("axe-core") as { source: string }).source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** Runs axe-core (WCAG 2.x A and AA rules and best practices) and returns serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(context: Document, options: object): Promise<any> } }).axe;
    return axe.run(document, { resultTypes: ["violations"] });
  });
  return (result.violations as any[])
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: any) => n.target.join(" ")) }));
}

/** Saves a screenshot of the viewport as <name>.png (see SCREENSHOTS for where). */
export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  // Let fonts and the last frame settle; the caller has already waited for the content it shows.
  await page.evaluate(async () => {
    await document.fonts.ready;
    window.scrollTo(0, 0);
  });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), animations: "disabled", caret: "hide" });
}

/** Console errors other than the ones a test provoked on purpose. */
export function unexpected(errors: string[], allowed: RegExp[] = []): string[] {
  return errors.filter((e) => !allowed.some((a) => a.test(e)));
}
