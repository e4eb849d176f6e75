import { resolve } from "node:path";
import { StartupError } from "./errors";
import { startPlatform } from "./platform";

/**
 * `npm start`: the platform on this machine. Settings (all optional) are documented in the README:
 * PORT, AGENTORG_DATA_DIR, AGENTORG_DYNAMODB_PORT, AGENTORG_TABLE, AGENTORG_OPERATOR_KEY.
 */
function intSetting(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new StartupError(`${name} must be a port number (0-65535), got '${raw}'.`);
  return value;
}

async function main() {
  const started = Date.now();
  const keyFromEnv = Boolean(process.env.AGENTORG_OPERATOR_KEY);
  const dataDir = resolve(process.env.AGENTORG_DATA_DIR || ".data");
  const platform = await startPlatform({
    port: intSetting("PORT", 8084),
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
    `  @connections  ${platform.connectionsEndpoint}/@connections/{id}`,
    `  DynamoDB      ${platform.dynamoDbEndpoint}  table '${platform.tableName}'${platform.tableCreated ? " (created)" : ""}, data in ${dataDir}`,
    "",
    keyFromEnv
      ? "  Operator key  from AGENTORG_OPERATOR_KEY"
      : `  Operator key  ${platform.operatorKey}${platform.operatorKeyGenerated ? "  (generated, kept in the data folder)" : "  (from the data folder)"}`,
    `  Audit key     ${platform.auditKeyId} (public key at ${platform.apiUrl}/audit/public-key)`,
    "",
    "Ctrl-C stops everything.",
    "",
  ];
  console.log(lines.join("\n"));

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    await platform.stop();
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
