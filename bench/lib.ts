import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Percentile of a sample (nearest rank on a sorted copy). */
export function percentile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

export const median = (values: readonly number[]) => percentile(values, 0.5);

/** Prints rows as an aligned table. */
export function printTable(rows: Record<string, string | number>[]): void {
  if (!rows.length) return;
  const columns = Object.keys(rows[0]!);
  const cell = (v: string | number) => (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : v);
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c] ?? "").length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join("  ");
  console.log(line(columns));
  console.log(line(widths.map((w) => "-".repeat(w))));
  for (const row of rows) console.log(line(columns.map((c) => cell(row[c] ?? ""))));
}

/** Writes a bench's JSON result to bench/results/<name>.json. */
export function writeResult(name: string, result: unknown): void {
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify({ measuredAt: new Date().toISOString(), node: process.version, ...(result as object) }, null, 2) + "\n");
}
