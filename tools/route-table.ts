/**
 * `npm run routes:table`: writes functions/manifest/route-table.ts, the methods and paths of the HTTP
 * routes, for the `$default` function's 404/405 answers (it must not load the whole manifest: every
 * route's schemas). test/unit/functions/route-match.test.ts fails when the file is out of date.
 */
import { writeFileSync } from "node:fs";
import { httpRoutes } from "../functions/routes";

export const ROUTE_TABLE_FILE = "functions/manifest/route-table.ts";

/** The file's text for the current manifest. */
export function routeTableSource(): string {
  const rows = httpRoutes.map((r) => `  { method: ${JSON.stringify(r.method)}, path: ${JSON.stringify(r.path)} },`);
  return [
    "// Generated from the route manifest by `npm run routes:table` (tools/route-table.ts): do not edit.",
    "// The HTTP routes' methods and paths only, for the `$default` function's 404 and 405 answers.",
    "export const ROUTE_TABLE = [",
    ...rows,
    "] as const;",
    "",
  ].join("\n");
}

if (import.meta.url === `file://${process.argv[1]}`) {
  writeFileSync(ROUTE_TABLE_FILE, routeTableSource());
  console.log(`${ROUTE_TABLE_FILE}: ${httpRoutes.length} routes`);
}
