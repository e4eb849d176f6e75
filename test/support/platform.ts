import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import { createDocumentClient } from "../../core/db/client";
import { registryProblem } from "../../core/db/entities";
import { takeRefusals } from "../../local/permission-guard";
import { startPlatform, type Platform, type PlatformOptions } from "../../local/platform";

/**
 * The real local platform for one test file: DynamoDB Local in memory on a free port, the gateways on
 * another free port, handlers in this process (each test file runs in its own process).
 *
 * Its `stop()` first checks every item the file left in the table against the entity registry
 * (core/db/entities.ts) and fails, naming the offending keys, on an item type nobody declared; then
 * it fails on any DynamoDB command the local permission guard refused a function (local/permission-guard.ts).
 */
export async function startTestPlatform(options: Partial<PlatformOptions> = {}, checks: TestPlatformChecks = {}): Promise<Platform> {
  const platform = await startPlatform({ port: 0, tableName: "agentorg-test", ...options });
  const stop = platform.stop;
  platform.stop = async () => {
    const problems = await unregisteredItems(platform, checks.foreignItem ?? (() => false));
    await stop();
    if (problems.length) {
      throw new Error(`Items of unregistered entity types or key shapes were written (declare them in core/db/entities.ts):\n${problems.join("\n")}`);
    }
    // A refusal a handler swallowed (a best-effort write) must fail the file all the same.
    const refusals = takeRefusals();
    if (refusals.length) throw new Error(`The local permission guard refused DynamoDB commands:\n${refusals.join("\n")}`);
  };
  return platform;
}

export interface TestPlatformChecks {
  /**
   * Items a test wrote on purpose that belong to no application type (the stream poller's own test
   * items): the registry check skips them. Keep it as narrow as the test's items.
   */
  foreignItem?: (item: Record<string, unknown>) => boolean;
}

/** At most this many offending items are named (one missing declaration usually shows as many items). */
const MAX_REPORTED = 20;

/**
 * The registry's complaints about the items in the platform's table. A database a test took down (or
 * the table a fault test dropped) has nothing to check: that test is about something else.
 */
async function unregisteredItems(platform: Platform, foreignItem: (item: Record<string, unknown>) => boolean): Promise<string[]> {
  const client = createDocumentClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1", timeouts: { maxAttempts: 1 } });
  const problems: string[] = [];
  try {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await client.send(new ScanCommand({ TableName: platform.tableName, ExclusiveStartKey: start }));
      for (const item of page.Items ?? []) {
        const problem = foreignItem(item) ? null : registryProblem(item);
        if (problem && problems.length < MAX_REPORTED) problems.push(problem);
      }
      start = page.LastEvaluatedKey;
    } while (start);
  } catch (error) {
    if (!isUnreachable(error)) throw error;
  } finally {
    client.destroy();
  }
  return problems;
}

const isUnreachable = (error: unknown) =>
  error instanceof Error && (error.name === "ResourceNotFoundException" || /ECONNREFUSED|ECONNRESET|socket hang up|timed? ?out/i.test(`${error.name} ${error.message}`));

export interface CallOptions {
  method?: string;
  key?: string;
  body?: unknown;
  /** A raw body string, sent as is (malformed JSON and size tests). */
  raw?: string;
  headers?: Record<string, string>;
}

export interface CallResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** One HTTP call to the platform's API; JSON in, JSON (or text) out. */
export async function call<T = any>(platform: Platform, path: string, options: CallOptions = {}): Promise<CallResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key) headers.authorization = `Bearer ${options.key}`;
  let body: string | undefined = options.raw;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers["content-type"]) headers["content-type"] = "application/json";
  const response = await fetch(`${platform.apiUrl}${path}`, { method: options.method ?? "GET", headers, body });
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** An organization and one API key for it, made through the API with the operator key. */
export async function createTenant(platform: Platform, input: Record<string, unknown> = {}) {
  const org = await call(platform, "/organizations", {
    method: "POST",
    key: platform.operatorKey,
    body: { name: "Test Org", ...input },
  });
  if (org.status !== 201) throw new Error(`create organization: ${org.status} ${org.text}`);
  const key = await call(platform, `/organizations/${org.body.id}/api-keys`, {
    method: "POST",
    key: platform.operatorKey,
    body: { name: "test" },
  });
  if (key.status !== 201) throw new Error(`create key: ${key.status} ${key.text}`);
  return { org: org.body as { id: string; [k: string]: unknown }, key: key.body.secret as string, keyId: key.body.id as string };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Rate limits far above anything a test sends, set by the operator for one organization: for tests
 * of something else (quotas, budgets) that fire more concurrent requests than a tier's burst admits,
 * so what refuses them is the thing under test and not the rate limiter.
 */
export const LIFTED_RATE_LIMITS = {
  organization: { requestsPerSecond: 500, burst: 10_000 },
  apiKey: { requestsPerSecond: 500, burst: 10_000 },
  chat: { requestsPerMinute: 30_000, tokensPerMinute: 100_000_000 },
};

/** The operator sets an organization's rate-limit override (`PUT /organizations/{id}/rate-limits`). */
export async function setRateLimits(platform: Platform, orgId: string, override: Record<string, unknown> = LIFTED_RATE_LIMITS) {
  const result = await call(platform, `/organizations/${orgId}/rate-limits`, { method: "PUT", key: platform.operatorKey, body: override });
  if (result.status !== 200) throw new Error(`set rate limits: ${result.status} ${result.text}`);
  return result.body;
}
