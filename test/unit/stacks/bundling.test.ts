import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import esbuild from "esbuild";
import { afterAll, describe, expect, it } from "vitest";
import { esbuildOptionsFor } from "../../../stacks/bundling";

/** What the deploy bundles' own transforms (stacks/bundling.ts) do to the code they carry. */

const scratch = mkdtempSync(join(tmpdir(), "agentorg-bundling-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Bundles `source` (a module in the repository's root, so its imports resolve) as a function is bundled, and imports it. */
async function bundled(name: string, source: string): Promise<Record<string, unknown>> {
  const entry = resolve(`.bundling-test-${name}.ts`);
  writeFileSync(entry, source);
  try {
    const outfile = join(scratch, `${name}.mjs`);
    await esbuild.build(esbuildOptionsFor(entry, outfile));
    return (await import(pathToFileURL(outfile).href)) as Record<string, unknown>;
  } finally {
    rmSync(entry, { force: true });
  }
}

describe("function bundles", () => {
  it("carry the router's weights compressed, and unpack every number exactly as the source has it", async () => {
    const { weights } = await bundled("weights", `export { default as weights } from "./core/routing/weights.json";\n`);
    const code = readFileSync(join(scratch, "weights.mjs"), "utf8");

    expect(weights).toEqual(JSON.parse(readFileSync("core/routing/weights.json", "utf8")));
    expect(code).not.toContain("agentorg-routing-weights/1");
    expect(code.length).toBeLessThan(readFileSync("core/routing/weights.json").length);
  });

  it("carry zod's English messages only", async () => {
    const { locales, message } = await bundled(
      "zod",
      `import { z } from "zod";\nexport const locales = Object.keys(z.locales);\nexport const message = z.string().safeParse(1).error?.issues[0]?.message;\n`,
    );

    expect(locales).toEqual(["en"]);
    expect(message).toBe("Invalid input: expected string, received number");
  });
});
