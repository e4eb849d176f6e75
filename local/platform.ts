import type { Server } from "node:http";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { QueueConsumerSpec, StreamConsumerSpec } from "../functions/manifest.types";
import { queues as manifestQueues, scheduled as manifestScheduled, streams as manifestStreams } from "../functions/routes";
import { coldStart } from "../functions/lib/services/lazy";
import { generateAuditKeyPair, keyIdOf, privateKeyFromSeed, publicKeyToBase64 } from "../core/audit/chain";
import { ensureTable, startDynamoDbLocal, type DynamoDbLocal } from "./dynamodb";
import { createConnectionsEndpoint } from "./connections-endpoint";
import { StartupError } from "./errors";
import { registerLocalProbes } from "./health-probes";
import { createHttpGateway } from "./http-gateway";
import { createGuardedServer, hasBody, refuse, requestTarget } from "./http-guards";
import { holdPort, type HeldPort } from "./ports";
import { createStaticSite } from "./static";
import { installPermissionGuard } from "./permission-guard";
import { createStreamPoller } from "./stream-poller";
import { timeoutsOf } from "./invocation-context";
import { createScheduler } from "./scheduler";
import { createLocalQueues, createSqsEndpoint, LOCAL_ACCOUNT, type LocalQueues } from "./sqs-endpoint";
import { consumersOf, createQueuePoller, type QueuePoller } from "./queue-poller";
import { createWsGateway } from "./ws-gateway";
import type { LocalCredentials } from "./sigv4-verifier";

export interface PlatformOptions {
  /** HTTP port for API, WebSocket and dashboard; 0 = any free port. */
  port: number;
  /** Port of the @connections management endpoint (on 127.0.0.1 only); unset or 0 = any free port. */
  connectionsPort?: number;
  /** Data folder (DynamoDB Local files, operator key, stream checkpoints); unset = everything in memory. */
  dataDir?: string;
  dynamoDbPort?: number;
  tableName?: string;
  /** Operator key; unset = read from the data folder or generated there. */
  operatorKey?: string;
  /**
   * Audit checkpoint signing key (base64 of a 32-byte Ed25519 seed); unset = AGENTORG_AUDIT_SIGNING_KEY,
   * else read from the data folder or generated there (in memory: a new one per run).
   */
  auditSigningKey?: string;
  /** Stream consumers to run; default: the manifest's. */
  consumers?: StreamConsumerSpec[];
  /** Queues and their consumers to run; default: the manifest's (`[]`: no queue is consumed, messages wait). */
  queueConsumers?: QueueConsumerSpec[];
  /**
   * One visibility timeout (seconds, fractions allowed) for every local queue instead of the manifest's:
   * how soon a failed message comes back. For tests of retries and the dead-letter queue.
   */
  queueVisibilityTimeoutSeconds?: number;
  /** Host name in URLs. */
  host?: string;
  webRoot?: string;
  /** Extra environment for the functions (model endpoints, limits), as a stack would set it. */
  env?: Record<string, string | undefined>;
  /**
   * One timeout (ms) for every route's function instead of the deployed ones (29 s, 5 minutes for
   * streaming routes): what their invocation contexts count down from. For tests of deadlines.
   */
  functionTimeoutMs?: number;
}

export interface Platform {
  url: string;
  apiUrl: string;
  wsUrl: string;
  /**
   * The @connections endpoint for the API Gateway Management API client: its own listener on
   * 127.0.0.1, answering only calls signed (SigV4) with `connectionsCredentials`.
   */
  connectionsEndpoint: string;
  /** The per-run credentials the in-process handlers sign @connections calls with (also in process.env). */
  connectionsCredentials: LocalCredentials;
  dynamoDbEndpoint: string;
  tableName: string;
  operatorKey: string;
  operatorKeyGenerated: boolean;
  /** The audit checkpoints' public key (base64 of the raw 32 bytes) and its keyId. */
  auditPublicKey: string;
  auditKeyId: string;
  tableCreated: boolean;
  poller: ReturnType<typeof createStreamPoller>;
  /** The scheduled functions' timers (the reservation reconciler, the SLA sweep); `run(name)` runs one now. */
  scheduler: ReturnType<typeof createScheduler>;
  /**
   * The local SQS queues (local/sqs-endpoint.ts, served signed on `endpoint`, 127.0.0.1 only) and the
   * poller running their consumers (local/queue-poller.ts); `drained()` waits until every queue is empty
   * and no batch runs.
   */
  queues: { local: LocalQueues; poller: QueuePoller; endpoint: string; urlOf(name: string): string; drained(timeoutMs?: number): Promise<void> };
  /** The supervised DynamoDB Local (its pid, `kill()` for fault tests, `status()`, `whenUp()`). */
  dynamoDb: DynamoDbLocal;
  /** The local WebSocket gateway (open sockets, for benchmarks). */
  ws: { size(): number; sockets(): import("ws").WebSocket[] };
  stop(): Promise<void>;
}

const WS_STAGE = "ws";

/**
 * Per-run credentials for the @connections endpoint, made once per process: every platform this
 * process starts shares them, so a management client cached by the handlers keeps working across a
 * restart inside one test file. DynamoDB Local ignores credentials.
 */
let localCredentials: LocalCredentials | undefined;
const credentialsForThisRun = (): LocalCredentials =>
  (localCredentials ??= { accessKeyId: `LOCAL${randomBytes(8).toString("hex").toUpperCase()}`, secretAccessKey: randomBytes(30).toString("base64") });

function operatorKeyFrom(options: PlatformOptions): { key: string; generated: boolean } {
  if (options.operatorKey) {
    if (options.operatorKey.length < 16) throw new StartupError("AGENTORG_OPERATOR_KEY must be at least 16 characters.");
    return { key: options.operatorKey, generated: false };
  }
  const fresh = `op_${randomBytes(24).toString("hex")}`;
  if (!options.dataDir) return { key: fresh, generated: true };
  const file = join(options.dataDir, "operator-key");
  if (existsSync(file)) return { key: readFileSync(file, "utf8").trim(), generated: false };
  writeFileSync(file, fresh + "\n", { mode: 0o600 });
  return { key: fresh, generated: true };
}

/** The key this module put into the environment last: not a user's setting when the next platform starts. */
let auditKeySetByPlatform: string | undefined;

function auditSigningKeyFrom(options: PlatformOptions): string {
  const fromEnv = process.env.AGENTORG_AUDIT_SIGNING_KEY;
  const given = options.auditSigningKey ?? (fromEnv && fromEnv !== auditKeySetByPlatform ? fromEnv : undefined);
  let key = given;
  if (!key && options.dataDir) {
    const file = join(options.dataDir, "audit-signing-key");
    if (existsSync(file)) key = readFileSync(file, "utf8").trim();
    else {
      key = generateAuditKeyPair().privateKey;
      writeFileSync(file, key + "\n", { mode: 0o600 });
    }
  }
  key ??= generateAuditKeyPair().privateKey;
  try {
    privateKeyFromSeed(key);
  } catch {
    throw new StartupError("AGENTORG_AUDIT_SIGNING_KEY (or <data dir>/audit-signing-key) must be base64 of a 32-byte Ed25519 seed.");
  }
  return key;
}

/**
 * The whole platform on one machine, on real parts: DynamoDB Local, the HTTP and WebSocket gateways
 * invoking the real handlers, the stream poller feeding the stream consumers, and the dashboard, all on
 * one port. Used by `npm start` (local/start.ts) and by the integration tests.
 */
export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const host = options.host ?? "localhost";
  const tableName = options.tableName ?? "agentorg";
  if (tableName.length < 3) throw new StartupError("The table name needs at least 3 characters.");
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const { key: operatorKey, generated } = operatorKeyFrom(options);
  const auditSigningKey = auditSigningKeyFrom(options);
  const auditPublicKey = publicKeyToBase64(privateKeyFromSeed(auditSigningKey));
  // Both listeners' ports are bound now and kept bound until their servers take them over.
  const held: HeldPort[] = [await holdPort(options.port, "agentorg HTTP")];
  const port = held[0]!.port;

  let dynamo: DynamoDbLocal;
  try {
    dynamo = await startDynamoDbLocal({
      port: options.dynamoDbPort ?? 0,
      ...(options.dataDir ? { dataDir: join(options.dataDir, "dynamodb"), pidFile: join(options.dataDir, "dynamodb-local.pid") } : {}),
    });
  } catch (error) {
    await held[0]!.release();
    throw error;
  }
  // Released ports a server took over are closed with it; releasing again does nothing.
  const cleanups: (() => Promise<void>)[] = [() => dynamo.stop(), async () => void (await Promise.all(held.map((h) => h.release())))];
  try {
    const region = process.env.AWS_REGION ?? "us-east-1";
    const domainName = `${host}:${port}`;
    const credentials = credentialsForThisRun();
    held.push(await holdPort(options.connectionsPort ?? 0, "agentorg @connections", "127.0.0.1"));
    const connectionsPort = held[1]!.port;
    const connectionsEndpoint = `http://127.0.0.1:${connectionsPort}/${WS_STAGE}`;
    held.push(await holdPort(0, "agentorg SQS", "127.0.0.1"));
    const sqsEndpoint = `http://127.0.0.1:${held[2]!.port}`;
    const queueUrl = (name: string) => `${sqsEndpoint}/${LOCAL_ACCOUNT}/${name}`;
    const queueSpecs = options.queueConsumers ?? manifestQueues;

    // The handlers run in this process: give them the environment a deployed function gets.
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      DYNAMODB_ENDPOINT: dynamo.endpoint,
      AGENTORG_OPERATOR_KEY: operatorKey,
      AGENTORG_WS_ENDPOINT: connectionsEndpoint,
      // The audit consumer signs checkpoints with it (in AWS it reads an SSM parameter instead).
      AGENTORG_AUDIT_SIGNING_KEY: auditSigningKey,
      AWS_REGION: region,
      // What the handlers' management client signs @connections calls with (the endpoint checks them).
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      // The queues' URLs (in AWS the stack sets them); the SQS client sends to the URL's host.
      ...Object.fromEntries(manifestQueues.map((q) => [q.urlEnv, queueUrl(q.name)])),
    });
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AGENTORG_OPERATOR_KEY_SHA256;
    auditKeySetByPlatform = auditSigningKey;
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    // Every function's DynamoDB commands are checked against its route's permissions (before the
    // composition root creates its client).
    installPermissionGuard();
    coldStart();

    const admin = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
    const { created, streamArn } = await ensureTable(admin, tableName);
    admin.destroy();

    const poller = createStreamPoller({
      endpoint: dynamo.endpoint,
      region,
      streamArn,
      consumers: options.consumers ?? manifestStreams,
      ...(options.dataDir
        ? { checkpointFile: join(options.dataDir, "stream-checkpoints.json"), failureFile: join(options.dataDir, "stream-failures.jsonl") }
        : {}),
    });
    poller.start();
    cleanups.unshift(() => poller.stop());
    // After DynamoDB Local restarts: an in-memory database lost its table, so create it again (its data
    // is gone; the stream is a new one). With a data folder the table and stream are still there (no
    // table is created on a database that may still be loading), and the poller finds its place again
    // from its checkpoints by itself.
    if (!options.dataDir) {
      dynamo.onRestart(async () => {
        const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region, credentials: { accessKeyId: "local", secretAccessKey: "local" } });
        try {
          const table = await ensureTable(client, tableName);
          if (table.created) poller.setStream(table.streamArn);
        } finally {
          client.destroy();
        }
      });
    }
    const consumers = options.consumers ?? manifestStreams;
    const unregisterProbes = registerLocalProbes({ dynamoDb: dynamo, ...(consumers.length ? { poller } : {}) });
    cleanups.unshift(async () => unregisterProbes());

    // The queues of the manifest exist whether or not they are consumed (senders may send to them).
    const localQueues = createLocalQueues();
    for (const spec of manifestQueues) {
      const visibility = options.queueVisibilityTimeoutSeconds ?? spec.visibilityTimeoutSeconds;
      localQueues.create({ name: spec.deadLetter.name, visibilityTimeoutSeconds: options.queueVisibilityTimeoutSeconds ?? spec.deadLetter.timeoutSeconds });
      localQueues.create({ name: spec.name, visibilityTimeoutSeconds: visibility, redrive: { deadLetterQueue: spec.deadLetter.name, maxReceiveCount: spec.maxReceiveCount } });
    }
    const queuePoller = createQueuePoller({ queues: localQueues, consumers: queueSpecs.flatMap(consumersOf) });
    queuePoller.start();
    cleanups.unshift(() => queuePoller.stop());

    const timeoutOf = timeoutsOf(options.functionTimeoutMs);
    const httpGateway = createHttpGateway({ domainName, timeoutOf });
    const wsGateway = createWsGateway({ domainName, stage: WS_STAGE, timeoutOf });
    const scheduler = createScheduler({ functions: manifestScheduled, timeoutOf });
    scheduler.start();
    cleanups.unshift(() => scheduler.stop());
    const site = createStaticSite(options.webRoot ?? resolve(import.meta.dirname, "../web/dist"));

    const server: Server = createGuardedServer(
      async (req, res) => {
        const target = requestTarget(req.url);
        if (!target) {
          refuse(res, 400, { "content-type": "text/plain; charset=utf-8" }, "Bad Request");
          return;
        }
        if (target.path.startsWith("/api/")) return httpGateway(req, res, target);
        // The management API lives on its own loopback listener (connectionsEndpoint), never here.
        if (target.path === `/${WS_STAGE}/@connections` || target.path.startsWith(`/${WS_STAGE}/@connections/`)) {
          refuse(res, 404, { "content-type": "application/json" }, JSON.stringify({ message: "Not Found" }));
          return;
        }
        // The dashboard reads no body: a request that sends one is answered and its connection closed.
        if (hasBody(req)) res.shouldKeepAlive = false;
        site(req, res, target.path);
      },
      async (req, socket, head) => {
        if (requestTarget(req.url)?.path !== `/${WS_STAGE}`) {
          socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
          return;
        }
        await wsGateway.upgrade(req, socket, head);
      },
    );
    const connections = createConnectionsEndpoint({ stage: WS_STAGE, credentials, management: wsGateway.management });
    // Each server takes over the socket bound for it at the start: the port was never free meanwhile.
    const listen = (listener: Server, port: HeldPort) =>
      new Promise<void>((resolveListen, reject) => {
        listener.once("error", reject);
        listener.listen(port.socket, () => resolveListen());
      });
    const closeServer = (listener: Server) => () =>
      new Promise<void>((done) => {
        listener.closeAllConnections();
        listener.close(() => done());
      });
    await listen(server, held[0]!);
    cleanups.unshift(() => wsGateway.close(), closeServer(server));
    // Loopback only: in AWS this API is reachable only with IAM credentials, never from a browser.
    await listen(connections, held[1]!);
    cleanups.unshift(closeServer(connections));
    const sqs = createSqsEndpoint({ queues: localQueues, credentials });
    await listen(sqs, held[2]!);
    cleanups.unshift(closeServer(sqs));

    const url = `http://${domainName}`;
    return {
      url,
      apiUrl: `${url}/api/v1`,
      wsUrl: `ws://${domainName}/${WS_STAGE}`,
      connectionsEndpoint,
      connectionsCredentials: credentials,
      dynamoDbEndpoint: dynamo.endpoint,
      tableName,
      operatorKey,
      operatorKeyGenerated: generated,
      auditPublicKey,
      auditKeyId: keyIdOf(auditPublicKey),
      tableCreated: created,
      poller,
      scheduler,
      queues: {
        local: localQueues,
        poller: queuePoller,
        endpoint: sqsEndpoint,
        urlOf: queueUrl,
        drained: (timeoutMs?: number) => queuePoller.drained(timeoutMs),
      },
      dynamoDb: dynamo,
      ws: { size: () => wsGateway.size(), sockets: () => wsGateway.sockets() },
      async stop() {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}
