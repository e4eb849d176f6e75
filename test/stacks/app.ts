import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initProject, useProject } from "sst/project.js";
import { App } from "sst/constructs";
import type { StreamConsumerSpec } from "../../functions/manifest.types";
import type { SiteSource } from "../../stacks/web";

/** Shared set-up of the stack tests: an SST app synthesized offline, as ARCHITECTURE.md describes. */

export const OPERATOR_KEY = "stack-test-operator-key-0123456789";

/**
 * A stream consumer for synthesis only, so the mapping's settings are checked whatever the manifest
 * holds. Its handler is an existing module because synthesis bundles it; what it does is irrelevant.
 */
export const SAMPLE_CONSUMER: StreamConsumerSpec = {
  name: "sample",
  handler: "functions/http/health.handler",
  // Tenant items only (keys start with T#), the kind of filter the audit consumer will use.
  filterPatterns: [{ dynamodb: { Keys: { pk: { S: [{ prefix: "T#" }] } } } }],
  batchSize: 25,
  permissions: ["table:read", "table:write"],
};

export interface TestApp {
  app: App;
  /** A prebuilt dashboard, so synthesis neither runs vite nor depends on web/dist. */
  site: SiteSource;
  /** Removes the temp folders (call in afterAll). */
  dispose(): void;
}

/**
 * The app the stacks are added to, in a fixed account, `mode: "deploy"` (functions are bundled, nothing
 * is uploaded; NODE_ENV=test keeps SST from looking up its bootstrap stack).
 *
 * `bundleFunctions: false` skips bundling (about 2.7 MB per function, ~1 s each): SST's inactive-stack
 * path, which `sst deploy <stack>` uses for the stacks it is not deploying, keeps every resource, role and
 * policy but gives functions placeholder code. Only the Web stack stays active, so its bucket and
 * distribution exist. Enough for checks of configuration (cdk-nag), not for handler paths.
 *
 * SST writes function bundles to `.sst/artifacts/<construct address>` and rewrites `.sst/types` for each
 * app. Test files run in parallel, and other people's test runs share this working tree, so two apps with
 * the same stacks would build into the same folders at once: each app gets its own scratch `.sst`.
 * The operator key is set after `initProject`, which loads `.env` files over the environment.
 */
export async function createTestApp(stage: string, options: { bundleFunctions?: boolean } = {}): Promise<TestApp> {
  // SST builds one function per spare core (so one at a time on 2 cores); a build mostly waits on
  // esbuild, npm and disk, so a few at once finish sooner.
  process.env.SST_BUILD_CONCURRENCY ??= "3";
  await initProject({ stage });
  const scratch = mkdtempSync(join(tmpdir(), "agentorg-stacks-"));
  const paths = useProject().paths;
  paths.out = join(scratch, "sst");
  paths.artifacts = join(scratch, "sst", "artifacts");

  const site = join(scratch, "site");
  mkdirSync(site);
  writeFileSync(join(site, "index.html"), "<!doctype html><title>agentorg</title>\n");

  process.env.AGENTORG_OPERATOR_KEY = OPERATOR_KEY;
  const app = new App(
    {
      mode: "deploy",
      stage,
      name: "agentorg",
      region: "us-east-1",
      account: "123456789012",
      ...(options.bundleFunctions === false ? { isActiveStack: (name: string) => name.endsWith("-Web") } : {}),
    },
    { outdir: join(scratch, "cdk.out") },
  );
  return {
    app,
    site: { path: site, buildOutput: "." },
    dispose: () => rmSync(scratch, { recursive: true, force: true }),
  };
}
