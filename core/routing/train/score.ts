/**
 * `npm run --silent route:score`: scores JSON Lines from stdin with the shipped classifier.
 *
 * Input, one object per line: `{"prompt": "..."}` (or `{"messages": [{"role", "content"}, ...]}`).
 * Output, one line per input line, same order: `{"score": s, "tier": "slm"|"llm"}`, the tier at the
 * balanced default threshold (0.5). Blank lines are skipped and produce no output.
 *
 * Errors: the first bad line stops the run with `route:score: line N: why` on stderr and exit code 1;
 * lines before it have already been written. Nothing but result lines is ever written to stdout.
 */
import { createInterface } from "node:readline";
import { classifier, type ChatMessage, type RoutingInput } from "../classifier";
import { decide } from "../policy";

/** The routing input of one line, or why the line cannot be scored. */
function parseLine(line: string): { input: RoutingInput } | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { error: `not JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return { error: 'expected an object like {"prompt": "..."}' };
  const record = value as Record<string, unknown>;
  if (typeof record.prompt === "string") return { input: record.prompt };
  if (Array.isArray(record.messages)) {
    const ok = record.messages.every(
      (m: unknown) => m !== null && typeof m === "object" && typeof (m as ChatMessage).role === "string" && typeof (m as ChatMessage).content === "string",
    );
    if (ok) return { input: record.messages as ChatMessage[] };
    return { error: '"messages" must be an array of {"role": string, "content": string}' };
  }
  return { error: 'missing string field "prompt"' };
}

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const line of lines) {
    lineNumber++;
    if (line.trim() === "") continue;
    const parsed = parseLine(line);
    if ("error" in parsed) {
      process.stderr.write(`route:score: line ${lineNumber}: ${parsed.error}\n`);
      process.exitCode = 1;
      lines.close();
      return;
    }
    const score = classifier.score(parsed.input);
    const { tier } = decide({ score, industry: "other" });
    process.stdout.write(`${JSON.stringify({ score, tier })}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`route:score failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
