import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuditChange } from "../../../core/audit/entry";

export const root = join(import.meta.dirname, "../../..");

/** `n` distinct changes of one organization, like the stream consumer would produce them. */
export function makeChanges(n: number, orgId = "org_a", from = 1): AuditChange[] {
  return Array.from({ length: n }, (_, i) => {
    const k = from + i;
    return {
      orgId,
      time: new Date(Date.UTC(2026, 2, 2, 9, 0, k)).toISOString(),
      action: k % 3 === 0 ? "remove" : k % 3 === 1 ? "insert" : "modify",
      entity: { type: "ticket", id: `tkt_${k}` },
      actor: k % 2 ? `agent:agt_${k}` : null,
      summary: {
        fields: ["status", "title"],
        redacted: [],
        before: { status: "open", title: `Ticket ${k} – Größe` },
        after: { status: "closed", title: `Ticket ${k} – Größe` },
      },
      source: { eventId: `evt_${orgId}_${k}`, sequenceNumber: String(1_000_000 + k) },
    };
  });
}

/** A temp file holding `text`. */
export function tempFile(text: string | Uint8Array, name = "export.jsonl"): string {
  const dir = mkdtempSync(join(tmpdir(), "audit-verify-"));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the verifier CLI the way users do: a separate process through tsx. */
export function runCli(args: string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, "node_modules/.bin/tsx"), ["tools/audit-verify.ts", ...args], { cwd: root });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Parses the CLI's failure line: `INVALID org=<o> seq=<n> reason=<r>` or `INVALID line=<n> ... reason=<r>`. */
export function cliFailure(stdout: string): { seq?: number; line?: number; reason: string } | null {
  const chain = /^INVALID org=\S+ seq=(\d+) reason=(\w+)/m.exec(stdout);
  if (chain) return { seq: Number(chain[1]), reason: chain[2]! };
  const line = /^INVALID line=(\d+)(?: seq=\d+)? reason=(\w+)/m.exec(stdout);
  if (line) return { line: Number(line[1]), reason: line[2]! };
  return null;
}

/** The test vectors of docs/audit-log-format.md, read from the document itself. */
export function readVectors(): { doc: string; blocks: Record<string, string> } {
  const doc = readFileSync(join(root, "docs/audit-log-format.md"), "utf8");
  const blocks: Record<string, string> = {};
  for (const m of doc.matchAll(/<!-- vector:([\w-]+) -->\s*```jsonl?\n([\s\S]*?)\n```/g)) blocks[m[1]!] = m[2]!;
  return { doc, blocks };
}
