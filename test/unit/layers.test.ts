import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

const importsOf = (file: string) => [...readFileSync(file, "utf8").matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1]!);

describe("layer rules", () => {
  it("keeps AWS SDK, Lambda and SST imports out of core, except core/db", () => {
    const offenders = sources(join(root, "core"))
      .filter((file) => !relative(root, file).startsWith("core/db/"))
      .flatMap((file) => importsOf(file).filter((i) => /^(@aws-sdk\/|aws-lambda$|sst\b|aws-cdk-lib)/.test(i)).map((i) => `${relative(root, file)}: ${i}`));

    expect(offenders).toEqual([]);
  });

  it("keeps core independent of functions, local and stacks", () => {
    const offenders = sources(join(root, "core")).flatMap((file) =>
      importsOf(file)
        .filter((i) => /(^|\/)(functions|local|stacks)\//.test(i))
        .map((i) => `${relative(root, file)}: ${i}`),
    );

    expect(offenders).toEqual([]);
  });

  it("builds no DynamoDB command inside a handler", () => {
    // The adapters of other services (API Gateway's @connections, a failure queue and the work queue in SQS, a secret in SSM) are the exceptions.
    const adapters = ["connections.ts", "failure-queue.ts", "work-queue.ts", "audit-key.ts"];
    const offenders = sources(join(root, "functions")).filter((file) => /Command\(/.test(readFileSync(file, "utf8")) && !adapters.some((a) => file.endsWith(a)));

    expect(offenders.map((f) => relative(root, f))).toEqual([]);
  });
});
