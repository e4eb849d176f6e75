/**
 * Per-decision latency of the routing classifier (`classifier.score` + `decide`), measured call by
 * call over the real benchmark prompts (synthetic ones when the data directory is missing), next to
 * two baselines timed in the same run on the same prompts: `JSON.parse` of the prompt's JSON line
 * (what `route:score` must do anyway) and `prompt.toLowerCase()`. Ratios to the baselines stay
 * meaningful across machines where absolute microseconds do not.
 *
 * Run: node_modules/.bin/tsx bench/classifier.bench.ts   (writes bench/results/classifier.json)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { classifier } from "../core/routing/classifier";
import { decide } from "../core/routing/policy";
import { dataDir, loadDataset } from "../core/routing/train/dataset";
import { mulberry32 } from "../core/routing/train/metrics";

const ROUNDS = 3;
const MAX_PROMPTS = 6000;

interface Sample {
  label: string;
  prompt: string;
  line: string;
}

function prompts(): { source: string; samples: Sample[] } {
  const rand = mulberry32(42);
  try {
    const { rows, dir } = loadDataset(dataDir());
    // A fixed, seeded subset keeps the run short and comparable between runs.
    const picked = rows.filter(() => rand() < MAX_PROMPTS / rows.length);
    return {
      source: dir,
      samples: picked.map((r) => ({ label: r.benchmark, prompt: r.prompt, line: JSON.stringify({ prompt: r.prompt }) })),
    };
  } catch {
    const words = ["the", "patient", "loan", "integral", "python", "court", "how", "many", "apples", "explain", "why", "42", "3.5", "$20"];
    const samples = Array.from({ length: 2000 }, (_, i) => {
      const n = 20 + Math.floor(rand() * 200);
      const prompt = Array.from({ length: n }, () => words[Math.floor(rand() * words.length)]!).join(" ") + (i % 2 ? "?" : ".");
      return { label: "synthetic", prompt, line: JSON.stringify({ prompt }) };
    });
    return { source: "synthetic (data directory not found)", samples };
  }
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

// Results are summed into a module-level variable so the JIT cannot drop the timed calls.
let sink = 0;

/** Times `fn` once per sample per round with hrtime; returns microseconds per call. */
function measure(samples: readonly Sample[], fn: (s: Sample) => number): Float64Array {
  for (const s of samples) sink += fn(s); // warm-up: let the JIT settle before timing
  const out = new Float64Array(samples.length * ROUNDS);
  const rand = mulberry32(7);
  let k = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const order = samples.map((_, i) => i).sort(() => rand() - 0.5);
    for (const i of order) {
      const s = samples[i]!;
      const t0 = process.hrtime.bigint();
      sink += fn(s);
      const t1 = process.hrtime.bigint();
      out[k++] = Number(t1 - t0) / 1000;
    }
  }
  return out.sort();
}

function main(): void {
  const { source, samples } = prompts();
  const meanChars = samples.reduce((a, s) => a + s.prompt.length, 0) / samples.length;
  const decideOnce = (s: Sample): number => (decide({ score: classifier.score(s.prompt), industry: "other" }).tier === "llm" ? 1 : 0);
  const labels = [...new Set(samples.map((s) => s.label))];

  const cases: { name: string; prompts: number; times: Float64Array }[] = [
    { name: "timer only (hrtime overhead)", prompts: samples.length, times: measure(samples, () => 0) },
    { name: "baseline: JSON.parse(line)", prompts: samples.length, times: measure(samples, (s) => (JSON.parse(s.line) as { prompt: string }).prompt.length) },
    { name: "baseline: prompt.toLowerCase()", prompts: samples.length, times: measure(samples, (s) => s.prompt.toLowerCase().length) },
    { name: "classifier.score + decide (all)", prompts: samples.length, times: measure(samples, decideOnce) },
    ...labels.map((label) => {
      const subset = samples.filter((s) => s.label === label);
      return { name: `classifier.score + decide (${label})`, prompts: subset.length, times: measure(subset, decideOnce) };
    }),
  ];

  const jsonParse = percentile(cases[1]!.times, 0.5);
  const rows = cases.map((c) => {
    const p50 = percentile(c.times, 0.5);
    return {
      name: c.name,
      prompts: c.prompts,
      calls: c.times.length,
      p50_us: Number(p50.toFixed(2)),
      p99_us: Number(percentile(c.times, 0.99).toFixed(2)),
      mean_us: Number((c.times.reduce((a, b) => a + b, 0) / c.times.length).toFixed(2)),
      vs_json_parse_p50: Number((p50 / jsonParse).toFixed(2)),
    };
  });

  const header = ["case", "prompts", "p50 µs", "p99 µs", "mean µs", "p50 / JSON.parse"];
  const table = [header, ...rows.map((r) => [r.name, String(r.prompts), r.p50_us.toFixed(2), r.p99_us.toFixed(2), r.mean_us.toFixed(2), r.vs_json_parse_p50.toFixed(2)])];
  const widths = header.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  const fmt = (row: string[]): string => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ");
  console.log(`prompts: ${samples.length} from ${source}, mean ${meanChars.toFixed(0)} chars; ${ROUNDS} timed rounds after warm-up`);
  console.log([fmt(table[0]!), widths.map((w) => "-".repeat(w)).join("  "), ...table.slice(1).map(fmt)].join("\n"));
  const classifierP50 = rows[3]!.p50_us;
  console.log(`target p50 < 50 µs: ${classifierP50 < 50 ? "met" : "NOT met"} (${classifierP50} µs)`);

  const out = join(dirname(fileURLToPath(import.meta.url)), "results/classifier.json");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        benchmark: "routing classifier per-decision latency",
        measuredAt: new Date().toISOString(),
        node: process.version,
        cpu: cpus()[0]?.model ?? "unknown",
        source,
        prompts: samples.length,
        meanPromptChars: Math.round(meanChars),
        rounds: ROUNDS,
        targetP50Us: 50,
        results: rows,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
}

main();
