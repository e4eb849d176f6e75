import { resolve } from "node:path";
import { parseConfig } from "../functions/lib/config";
import { StartupError } from "./errors";
import { modelEndpointLines } from "./model-endpoints";
import { startPlatform, type Platform } from "./platform";

/**
 * `npm start`: the platform on this machine. Settings (all optional) are documented in the README:
 * PORT, AGENTORG_CONNECTIONS_PORT, AGENTORG_DATA_DIR, AGENTORG_DYNAMODB_PORT, AGENTORG_TABLE,
 * AGENTORG_OPERATOR_KEY.
 */
function intSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new StartupError(`${name} must be a port number (0-65535), got '${raw}'.`);
  return value;
}

let platform: Platform | undefined;
let stopping = false;

/** How long a fatal error waits for the platform (DynamoDB Local above all) to stop before exiting. */
const FATAL_STOP_MS = 10_000;

/**
 * A bug that escaped every guard: the process is in an unknown state, so log one line, stop the
 * platform (DynamoDB Local must not outlive us and block the next start) and exit non-zero.
 */
function fatal(what: string, error: unknown): void {
  // One line: the message and where it was thrown (the first stack frame).
  const where = error instanceof Error ? error.stack?.split("\n")[1]?.trim() : undefined;
  console.error(`agentorg: ${what}, stopping: ${error instanceof Error ? error.message : String(error)}${where ? ` (${where})` : ""}`);
  if (stopping) process.exit(1);
  stopping = true;
  const stopped = platform ? platform.stop() : Promise.resolve();
  const timer = setTimeout(() => process.exit(1), FATAL_STOP_MS);
  timer.unref();
  void stopped.finally(() => process.exit(1));
}
process.on("uncaughtException", (error) => fatal("uncaught exception", error));
process.on("unhandledRejection", (reason) => fatal("unhandled rejection", reason));

async function main() {
  const started = Date.now();
  const keyFromEnv = Boolean(process.env.AGENTORG_OPERATOR_KEY);
  const dataDir = resolve(process.env.AGENTORG_DATA_DIR || ".data");
  const connectionsPort = intSetting("AGENTORG_CONNECTIONS_PORT", 0);
  platform = await startPlatform({
    port: intSetting("PORT", 8084),
    connectionsPort,
    dynamoDbPort: intSetting("AGENTORG_DYNAMODB_PORT", 8000),
    dataDir,
    ...(process.env.AGENTORG_TABLE ? { tableName: process.env.AGENTORG_TABLE } : {}),
    ...(process.env.AGENTORG_OPERATOR_KEY ? { operatorKey: process.env.AGENTORG_OPERATOR_KEY } : {}),
  });

  const lines = [
    "",
    `agentorg is running (local, started in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    "",
    `  Dashboard     ${platform.url}/`,
    `  HTTP API      ${platform.apiUrl}/`,
    `  API docs      ${platform.url}/docs/   (OpenAPI: ${platform.apiUrl}/openapi.json)`,
    `  WebSocket     ${platform.wsUrl}`,
    `  @connections  ${platform.connectionsEndpoint}/@connections/{id}   (127.0.0.1 only, SigV4-signed calls with this run's credentials)`,
    `  DynamoDB      ${platform.dynamoDbEndpoint}  table '${platform.tableName}'${platform.tableCreated ? " (created)" : ""}, data in ${dataDir}`,
    "",
    keyFromEnv
      ? "  Operator key  from AGENTORG_OPERATOR_KEY"
      : `  Operator key  ${platform.operatorKey}${platform.operatorKeyGenerated ? "  (generated, kept in the data folder)" : "  (from the data folder)"}`,
    `  Audit key     ${platform.auditKeyId} (public key at ${platform.apiUrl}/audit/public-key)`,
    "",
    // The handlers' own settings, parsed from the environment the platform gave them.
    ...modelEndpointLines(parseConfig(process.env).models),
    "",
    "Ctrl-C stops everything.",
    "",
  ];
  console.log(lines.join("\n"));

  const running = platform;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    await running.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  if (error instanceof StartupError) console.error(`agentorg: ${error.message}`);
  else console.error(`agentorg: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
