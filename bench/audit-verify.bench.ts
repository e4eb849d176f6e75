/**
 * Verification throughput of an audit export, in MB/s of export, side by side in one process:
 *
 *   node_modules/.bin/tsx bench/audit-verify.bench.ts [entries=20000] [repetitions=9]
 *
 * Rows: raw SHA-256 over the export bytes (the floor any verifier pays), JSON.parse of every line,
 * the writer's verifyChain (with and without its JSON.parse), and the independent CLI's verifyExport
 * (strict parser + json-canonicalize). Medians and worst of several interleaved rounds; writes
 * bench/results/audit-verify.json. Absolute numbers depend on the machine: read the ratios.
 */
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import { appendEntries, generateAuditKeyPair, signCheckpoint, toJsonLines, verifyChain } from "../core/audit/chain";
import type { AuditChange, AuditEntry, ChangeSummary, Checkpoint } from "../core/audit/entry";
import { verifyExport } from "../tools/audit-verify";

const ENTRIES = Number(process.argv[2] ?? 20_000);
const REPETITIONS = Number(process.argv[3] ?? 9);
const CHECKPOINT_EVERY = 1_000;
const ORG = "org_bench";

/** Changes shaped like the platform's: mostly ticket and message edits, some key rotations. */
function syntheticChanges(n: number): AuditChange[] {
  const actions = ["insert", "modify", "remove"] as const;
  return Array.from({ length: n }, (_, i) => {
    const rotation = i % 50 === 0;
    return {
      orgId: ORG,
      time: new Date(Date.UTC(2026, 0, 1) + i * 1_000).toISOString(),
      action: actions[i % 3]!,
      entity: rotation ? { type: "apiKey", id: `key_${i}` } : { type: i % 2 ? "ticket" : "message", id: `id_${i.toString(36).padStart(8, "0")}` },
      actor: i % 4 === 0 ? null : `agent:agt_${i % 17}`,
      summary: (rotation
        ? { fields: ["name", "secretHash"], redacted: ["/secretHash"], before: { name: `ci-${i}` }, after: { name: `ci-${i + 1}` } }
        : {
            fields: ["priority", "status", "title"],
            redacted: [],
            before: { priority: i % 5, status: "open", title: `Ticket ${i}: Drucker im 2. OG – «dringend»` },
            after: { priority: (i + 1) % 5, status: "in_progress", title: `Ticket ${i}: Drucker im 2. OG – «dringend»` },
          }) as ChangeSummary,
      source: { eventId: createHash("md5").update(String(i)).digest("hex"), sequenceNumber: String(4_000_000_000_000_000_000n + BigInt(i)) },
    };
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs every row once per round, round after round, so that load from other processes on a shared
 * machine falls on all rows alike instead of on whichever row happened to run during it.
 */
function measureInterleaved(runs: (() => unknown)[]): number[][] {
  for (const run of runs) run(); // warm-up: JIT and caches
  const times = runs.map(() => [] as number[]);
  for (let round = 0; round < REPETITIONS; round += 1) {
    runs.forEach((run, i) => {
      const start = performance.now();
      run();
      times[i]!.push(performance.now() - start);
    });
  }
  return times;
}

function parseLines(text: string): { entries: AuditEntry[]; checkpoints: Checkpoint[] } {
  const entries: AuditEntry[] = [];
  const checkpoints: Checkpoint[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const record = JSON.parse(line) as AuditEntry | Checkpoint;
    if (record.kind === "checkpoint") checkpoints.push(record);
    else entries.push(record);
  }
  return { entries, checkpoints };
}

// Arrange: one export, verified once by each side before anything is timed.
const keys = generateAuditKeyPair();
const entries = appendEntries(null, syntheticChanges(ENTRIES));
const checkpoints = entries
  .filter((e) => e.seq % CHECKPOINT_EVERY === 0 || e.seq === ENTRIES)
  .map((e) => signCheckpoint(keys.privateKey, { orgId: ORG, seq: e.seq, hash: e.hash, time: e.time }));
const text = toJsonLines(entries, checkpoints);
const bytes = Buffer.from(text, "utf8");
const parsed = parseLines(text);

const writerCheck = verifyChain(parsed.entries, parsed.checkpoints, keys.publicKey);
const cliCheck = verifyExport(bytes, { publicKey: keys.publicKey });
if (!writerCheck.valid || !cliCheck.valid) throw new Error("The synthetic export does not verify; the benchmark would measure a failure path.");

const rows: { name: string; run: () => unknown }[] = [
  { name: "sha256 over the export bytes", run: () => createHash("sha256").update(bytes).digest() },
  { name: "JSON.parse of every line", run: () => parseLines(bytes.toString("utf8")) },
  { name: "writer: verifyChain (pre-parsed)", run: () => verifyChain(parsed.entries, parsed.checkpoints, keys.publicKey) },
  {
    name: "writer: JSON.parse + verifyChain",
    run: () => {
      const p = parseLines(bytes.toString("utf8"));
      return verifyChain(p.entries, p.checkpoints, keys.publicKey);
    },
  },
  { name: "CLI: verifyExport (strict parse + verify)", run: () => verifyExport(bytes, { publicKey: keys.publicKey }) },
];

const megabytes = bytes.length / 1e6;
const timings = measureInterleaved(rows.map((row) => row.run));
const results = rows.map(({ name }, i) => {
  const times = timings[i]!;
  const medianMs = median(times);
  return { name, medianMs, worstMs: Math.max(...times), mbPerSecond: megabytes / (medianMs / 1000) };
});
const sha = results[0]!.medianMs;
const writer = results[3]!.medianMs;
const table = results.map((r) => ({
  ...r,
  timesSha256: r.medianMs / sha,
  vsWriterEndToEnd: r.medianMs / writer,
}));

const fmt = (n: number, digits = 1) => n.toFixed(digits);
console.log(
  `audit export: ${ENTRIES} entries, ${checkpoints.length} signed checkpoints, ${fmt(megabytes, 2)} MB; ` +
    `${REPETITIONS} interleaved rounds after a warm-up; node ${process.version}`,
);
console.log("");
console.log(`${"".padEnd(44)}${"median ms".padStart(11)}${"worst ms".padStart(10)}${"MB/s".padStart(9)}${"x sha256".padStart(10)}${"x writer".padStart(10)}`);
for (const r of table) {
  console.log(
    `${r.name.padEnd(44)}${fmt(r.medianMs).padStart(11)}${fmt(r.worstMs).padStart(10)}${fmt(r.mbPerSecond).padStart(9)}` +
      `${fmt(r.timesSha256).padStart(10)}${fmt(r.vsWriterEndToEnd, 2).padStart(10)}`,
  );
}

const out = join(dirname(new URL(import.meta.url).pathname), "results/audit-verify.json");
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: "audit-verify",
      date: new Date().toISOString(),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpu: cpus()[0]?.model ?? "unknown",
      entries: ENTRIES,
      checkpoints: checkpoints.length,
      bytes: bytes.length,
      repetitions: REPETITIONS,
      results: table.map((r) => ({
        name: r.name,
        medianMs: Number(fmt(r.medianMs, 2)),
        worstMs: Number(fmt(r.worstMs, 2)),
        mbPerSecond: Number(fmt(r.mbPerSecond, 2)),
        timesSha256: Number(fmt(r.timesSha256, 2)),
        vsWriterEndToEnd: Number(fmt(r.vsWriterEndToEnd, 3)),
      })),
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${out}`);
