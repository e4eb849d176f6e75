import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { Platform } from "../../local/platform";
import { auditConsumer } from "../../functions/manifest/audit";
import { keys } from "../../core/db/keys";
import { CREDENTIAL_CHECK_TTL_MS } from "../../core/tenants/api-keys";
import { createTenant, call, startTestPlatform } from "../support/platform";
import { TestSocket } from "../support/ws-client";

/**
 * Invariant: no WebSocket frame runs (is answered, billed, or subscribed) on credentials revoked more
 * than CREDENTIAL_CHECK_TTL_MS ago, even when nothing closed the socket: the connection gets a final
 * `credentials_revoked` error and is closed.
 */
const WINDOW_MS = 5_000;

describe("every frame runs on credentials that are still valid", () => {
  let bare: Platform;
  let bareDb: DynamoDBDocumentClient;

  beforeAll(async () => {
    // No revocations consumer here: what is left to test is the per-frame check alone, as when both the
    // revoking request's disconnect and the stream backstop have not reached the socket yet.
    bare = await startTestPlatform({ consumers: [auditConsumer] });
    bareDb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: bare.dynamoDbEndpoint, region: "us-east-1" }));
  });
  afterAll(async () => {
    bareDb?.destroy();
    await bare?.stop();
  });

  it("answers a frame on a revoked key with credentials_revoked and closes the socket", async () => {
    const t = await createTenant(bare);
    const minted = await call(bare, "/ws-tokens", { method: "POST", key: t.key });
    const socket = await TestSocket.open(`${bare.wsUrl}?token=${minted.body.token}`);
    socket.send({ action: "ping" });
    await socket.next("pong");

    // Revoked behind the API's back (a revoking request that died right after its write).
    await bareDb.send(
      new UpdateCommand({ TableName: bare.tableName, Key: keys.apiKey(t.org.id, t.keyId), UpdateExpression: "SET revokedAt = :now", ExpressionAttributeValues: { ":now": new Date().toISOString() } }),
    );
    await new Promise((resolve) => setTimeout(resolve, CREDENTIAL_CHECK_TTL_MS + 100));
    socket.send({ action: "ping" });
    const error = await socket.next("error");

    expect(error.problem.code).toBe("credentials_revoked");
    expect(await socket.closedWithin(WINDOW_MS)).not.toBe("open");
  });

  it("refuses HTTP requests with a key revoked on another instance within the cache's time", async () => {
    const t = await createTenant(bare);
    expect((await call(bare, `/organizations/${t.org.id}`, { key: t.key })).status).toBe(200);

    await bareDb.send(
      new UpdateCommand({ TableName: bare.tableName, Key: keys.apiKey(t.org.id, t.keyId), UpdateExpression: "SET revokedAt = :now", ExpressionAttributeValues: { ":now": new Date().toISOString() } }),
    );
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < WINDOW_MS) {
      status = (await call(bare, `/organizations/${t.org.id}`, { key: t.key })).status;
      if (status === 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }

    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(CREDENTIAL_CHECK_TTL_MS + 1_000);
  });
});
