import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { DynamoDBRecord } from "aws-lambda";
import { storedJson } from "../../core/db/audit.repository";
import { keys } from "../../core/db/keys";
import { handler as auditHandler } from "../../functions/stream/audit";
import type { Platform } from "../../local/platform";
import { call, createTenant, eventually, startTestPlatform } from "../support/platform";

/*
 * The audit log end to end: changes made through the API reach the table's stream, the stream poller
 * feeds the audit consumer (the manifest's, with its filter), and the audit API reads, verifies and
 * exports what it wrote.
 */

const root = join(import.meta.dirname, "../..");
let platform: Platform;
let db: DynamoDBDocumentClient;
let a: Awaited<ReturnType<typeof createTenant>>;
let b: Awaited<ReturnType<typeof createTenant>>;

beforeAll(async () => {
  platform = await startTestPlatform();
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: platform.dynamoDbEndpoint, region: "us-east-1" }));
  a = await createTenant(platform, { name: "Audited A" });
  b = await createTenant(platform, { name: "Audited B" });
});
afterAll(async () => {
  db?.destroy();
  await platform?.stop();
});

type Entry = { seq: number; action: string; entity: { type: string; id: string }; actor: string | null; summary: any; hash: string };

/** Every entry of the key's organization, oldest first. */
async function allEntries(key: string, orgId?: string): Promise<Entry[]> {
  const out: Entry[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ fromSeq: "1", limit: "100", ...(orgId ? { orgId } : {}), ...(cursor ? { cursor } : {}) });
    const page = await call(platform, `/audit/entries?${query}`, { key });
    expect(page.status).toBe(200);
    out.push(...page.body.items);
    cursor = page.body.cursor;
  } while (cursor);
  return out;
}

/** Waits until the consumer has audited everything written so far. */
async function settled(): Promise<void> {
  await platform.poller.drained();
}

function runVerifier(args: string[]): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(join(root, "node_modules/.bin/tsx"), ["tools/audit-verify.ts", ...args], { cwd: root });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stdout += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout }));
  });
}

describe("audit log through the local platform", () => {
  it("records each audited change of a tenant, with its actor", async () => {
    await call(platform, `/organizations/${a.org.id}`, { method: "PATCH", key: a.key, body: { name: "Audited A, renamed" } });
    const extra = await call(platform, `/organizations/${a.org.id}/api-keys`, { method: "POST", key: a.key, body: { name: "deploy" } });
    await call(platform, `/organizations/${a.org.id}/api-keys/${extra.body.id}`, { method: "DELETE", key: a.key });
    await settled();

    const entries = await allEntries(a.key);

    const described = entries.map((e) => `${e.action} ${e.entity.type} ${e.actor}`);
    expect(described).toEqual([
      "insert organization operator",
      "insert apiKey operator",
      "modify organization key:" + a.keyId,
      "insert apiKey key:" + a.keyId,
      "modify apiKey key:" + a.keyId,
    ]);
    expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    // The organization's version counts its changes (optimistic concurrency): it changes with the name.
    expect(entries[2]!.summary).toMatchObject({ fields: ["name", "version"], before: { name: "Audited A", version: 1 }, after: { name: "Audited A, renamed", version: 2 } });
    expect(entries[4]!.summary.fields).toContain("revokedAt");
  });

  it("names each page's actors beside the entries: the key's name, operator", async () => {
    const tenant = await createTenant(platform, { name: "Named actors" });
    const key = await call(platform, `/organizations/${tenant.org.id}/api-keys`, { method: "POST", key: platform.operatorKey, body: { name: "helpdesk-bot" } });
    const agent = await call(platform, "/agents", { method: "POST", key: key.body.secret, body: { name: "Hal", roleId: "ceo" } });
    await call(platform, `/agents/${agent.body.id}`, { method: "PATCH", key: tenant.key, body: { name: "Hal 9000" } });
    await settled();

    const page = await call(platform, "/audit/entries?fromSeq=1&limit=100", { key: tenant.key });

    const actors = new Set(page.body.items.map((e: Entry) => e.actor).filter(Boolean));
    expect(actors).toEqual(new Set(["operator", `key:${key.body.id}`, `key:${tenant.keyId}`]));
    expect(page.body.actorNames).toEqual({ operator: "operator", [`key:${key.body.id}`]: "helpdesk-bot", [`key:${tenant.keyId}`]: "test" });
    // The entries themselves stay exactly as chained: no name inside them.
    expect(page.body.items.every((e: Record<string, unknown>) => !("actorName" in e))).toBe(true);
  });

  it("never writes an API key's secret hash into the log", async () => {
    await settled();
    const stored = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.apiKey(a.org.id, a.keyId) }));
    const secretHash = stored.Item!.secretHash as string;

    const exported = await call(platform, "/audit/export", { key: a.key });
    const keyEntry = (await allEntries(a.key)).find((e) => e.entity.type === "apiKey")!;

    expect(exported.text).not.toContain(secretHash);
    expect(keyEntry.summary.fields).toContain("secretHash");
    expect(keyEntry.summary.redacted).toEqual(["/secretHash"]);
    expect(keyEntry.summary.after).not.toHaveProperty("secretHash");
  });

  it("lists newest first with cursor pagination, and from a seq oldest first", async () => {
    await settled();
    const first = await call(platform, "/audit/entries?limit=2", { key: a.key });
    const second = await call(platform, `/audit/entries?limit=2&cursor=${first.body.cursor}`, { key: a.key });
    const from = await call(platform, "/audit/entries?fromSeq=4&limit=10", { key: a.key });
    const total = (await allEntries(a.key)).length;

    expect(first.body.items.map((e: Entry) => e.seq)).toEqual([total, total - 1]);
    expect(second.body.items.map((e: Entry) => e.seq)).toEqual([total - 2, total - 3]);
    expect(from.body.items.map((e: Entry) => e.seq)).toEqual(Array.from({ length: total - 3 }, (_, i) => i + 4));
  });

  it("verifies the chain and its signed checkpoints", async () => {
    await settled();
    const entries = await allEntries(a.key);

    const verdict = await call(platform, "/audit/verify", { key: a.key });
    const checkpoints = await call(platform, "/audit/checkpoints", { key: a.key });

    expect(verdict.status).toBe(200);
    expect(verdict.body).toMatchObject({
      orgId: a.org.id,
      valid: true,
      length: entries.length,
      head: entries.at(-1)!.hash,
      firstInvalidSeq: null,
      reason: null,
    });
    expect(checkpoints.body.items.length).toBeGreaterThanOrEqual(1);
    expect(verdict.body.checkpoints.signaturesVerified).toBe(checkpoints.body.items.length);
    expect(checkpoints.body.items[0].keyId).toBe(platform.auditKeyId);
  });

  it("exports a file the independent verifier accepts, and names the entry after one changed byte", async () => {
    await settled();
    const publicKey = (await call(platform, "/audit/public-key")).body.publicKey;
    const exported = await call(platform, "/audit/export", { key: a.key });
    const dir = mkdtempSync(join(tmpdir(), "audit-export-"));
    const file = join(dir, "a.jsonl");
    writeFileSync(file, exported.text);

    const ok = await runVerifier([file, "--public-key", publicKey]);

    expect(exported.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    expect(publicKey).toBe(platform.auditPublicKey);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^OK org=${a.org.id}: \\d+ entries`));

    // One byte of entry 3's text ("renamed" -> "renamad"): the verifier names seq 3.
    const bytes = readFileSync(file);
    const at = bytes.indexOf("renamed", bytes.indexOf('"seq":3,') - 400) + 5;
    const lineStart = bytes.lastIndexOf(0x0a, at) + 1;
    expect(bytes.subarray(lineStart, bytes.indexOf(0x0a, at)).toString()).toContain('"seq":3,');
    bytes[at] = "a".charCodeAt(0);
    writeFileSync(file, bytes);

    const changed = await runVerifier([file, "--public-key", publicKey]);

    expect(changed.code).toBe(1);
    expect(changed.stdout).toMatch(new RegExp(`INVALID org=${a.org.id} seq=3 reason=hash_mismatch`));
  });

  it("ignores noise items and the consumer's own items", async () => {
    await settled();
    const before = (await allEntries(b.key)).length;
    // Noise written straight into the table: a WebSocket connection and a rate window of tenant B.
    await db.send(new PutCommand({ TableName: platform.tableName, Item: { ...keys.connection(b.org.id, "conn-1"), entity: "connection", orgId: b.org.id } }));
    await db.send(new PutCommand({ TableName: platform.tableName, Item: { ...keys.rateWindow(b.org.id, "org"), entity: "rateWindow", tat: 1 } }));
    await db.send(new DeleteCommand({ TableName: platform.tableName, Key: keys.connection(b.org.id, "conn-1") }));
    await call(platform, `/organizations/${b.org.id}`, { method: "PATCH", key: b.key, body: { size: "medium" } });
    await settled();

    const entries = await allEntries(b.key);
    const types = new Set(entries.map((e) => e.entity.type));

    expect(entries.length).toBe(before + 1);
    expect(entries.at(-1)).toMatchObject({ action: "modify", entity: { type: "organization" } });
    for (const ignored of ["connection", "rateWindow", "auditEntry", "auditHead", "auditCheckpoint", "auditSource"]) expect(types).not.toContain(ignored);
  });

  it("guards in code too: its own items reach the handler without the filter and are not audited", async () => {
    await settled();
    const head = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.auditHead(b.org.id) }));
    const own = (entity: string, sk: string): DynamoDBRecord => ({
      eventID: `own-${entity}`,
      eventName: "INSERT",
      eventSource: "aws:dynamodb",
      dynamodb: {
        ApproximateCreationDateTime: Date.now() / 1000,
        Keys: { pk: { S: keys.tenantPk(b.org.id) }, sk: { S: sk } },
        NewImage: { pk: { S: keys.tenantPk(b.org.id) }, sk: { S: sk }, entity: { S: entity }, seq: { N: "99" } },
        SequenceNumber: `9${entity.length}`,
        StreamViewType: "NEW_AND_OLD_IMAGES",
      },
    });

    const reply = await auditHandler({
      Records: [own("auditEntry", "AUDIT#000000000099"), own("auditHead", "AUDITHEAD"), own("auditCheckpoint", "AUDITCP#1"), own("auditSource", "AUDITSRC#x")],
    });
    const after = await db.send(new GetCommand({ TableName: platform.tableName, Key: keys.auditHead(b.org.id) }));

    expect(reply.batchItemFailures).toEqual([]);
    expect(after.Item!.seq).toBe(head.Item!.seq);
  });

  it("reports an entry tampered with in the table, with its seq", async () => {
    const c = await createTenant(platform, { name: "Tampered" });
    await call(platform, `/organizations/${c.org.id}`, { method: "PATCH", key: c.key, body: { industry: "finance" } });
    await call(platform, `/organizations/${c.org.id}`, { method: "PATCH", key: c.key, body: { industry: "retail" } });
    await settled();
    expect((await call(platform, "/audit/verify", { key: c.key })).body.valid).toBe(true);
    const key = keys.auditEntry(c.org.id, 3);
    const { json, jsonGz, ...item } = (await db.send(new GetCommand({ TableName: platform.tableName, Key: key }))).Item!;
    // Stored as text, or gzipped when that saves a write unit (core/db/audit.repository.ts storedJson).
    const entry = JSON.parse(jsonGz ? gunzipSync(jsonGz).toString("utf8") : json);
    entry.summary.after.industry = "government";

    await db.send(new PutCommand({ TableName: platform.tableName, Item: { ...item, ...storedJson(JSON.stringify(entry)) } }));
    const verdict = await call(platform, "/audit/verify", { key: c.key });

    expect(verdict.body).toMatchObject({ valid: false, firstInvalidSeq: 3, reason: "hash_mismatch", length: 2 });
  });

  it("reports entries removed from the end of the chain", async () => {
    const d = await createTenant(platform, { name: "Truncated" });
    await call(platform, `/organizations/${d.org.id}`, { method: "PATCH", key: d.key, body: { industry: "tech" } });
    await settled();
    const entries = await allEntries(d.key);

    await db.send(new DeleteCommand({ TableName: platform.tableName, Key: keys.auditEntry(d.org.id, entries.length) }));
    const verdict = await call(platform, "/audit/verify", { key: d.key });

    expect(verdict.body).toMatchObject({ valid: false, firstInvalidSeq: entries.length, length: entries.length - 1 });
    expect(["checkpoint_beyond_head", "head_mismatch"]).toContain(verdict.body.reason);
  });
});

describe("verify while the log grows (defect 7)", () => {
  it("never says invalid while tickets are being created concurrently", async () => {
    const t = await createTenant(platform, { name: "Busy" });
    await settled();
    let writing = true;
    // Ticket creation in 6 concurrent lanes; every new ticket is an append (and the first a checkpoint).
    const writers = Promise.all(
      Array.from({ length: 6 }, async (_, lane) => {
        for (let i = 0; i < 8; i++) {
          const created = await call(platform, "/tickets", { method: "POST", key: t.key, body: { type: "incident", title: `Lane ${lane} #${i}` } });
          expect(created.status).toBe(201);
        }
      }),
    ).finally(() => (writing = false));
    // Verify calls, two at a time, for as long as the writes go on.
    const verdicts: { valid: boolean; reason: string | null; message: string | null }[] = [];
    const verifiers = Promise.all(
      [0, 1].map(async () => {
        while (writing) verdicts.push((await call(platform, "/audit/verify", { key: t.key })).body);
      }),
    );

    await Promise.all([writers, verifiers]);
    await settled();
    const final = await call(platform, "/audit/verify", { key: t.key });

    expect(verdicts.length).toBeGreaterThanOrEqual(10);
    expect(verdicts.filter((v) => !v.valid)).toEqual([]);
    expect(final.body).toMatchObject({ valid: true, length: (await allEntries(t.key)).length });
  }, 120_000);
});

describe("audit API access", () => {
  const routes = ["/audit/entries", "/audit/checkpoints", "/audit/verify", "/audit/export"];

  it.each(routes)("%s: an organization key reads its own log, named or not", async (path) => {
    const own = await call(platform, path, { key: a.key });
    const named = await call(platform, `${path}?orgId=${a.org.id}`, { key: a.key });

    expect(own.status).toBe(200);
    expect(named.status).toBe(200);
    expect(named.text).toBe(own.text);
  });

  it.each(routes)("%s: another organization's id with an organization key is 404", async (path) => {
    const other = await call(platform, `${path}?orgId=${b.org.id}`, { key: a.key });

    expect(other.status).toBe(404);
    expect(other.headers.get("content-type")).toBe("application/problem+json");
    expect(other.text).not.toContain(b.org.name as string);
  });

  it.each(routes)("%s: the operator names any organization", async (path) => {
    const read = await call(platform, `${path}?orgId=${b.org.id}`, { key: platform.operatorKey });
    const missing = await call(platform, path, { key: platform.operatorKey });
    const unknown = await call(platform, `${path}?orgId=01jzzzzzzzzzzzzzzzzzzzzzzz`, { key: platform.operatorKey });

    expect(read.status).toBe(200);
    expect(read.text).toContain(b.org.id);
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe("org_id_required");
    expect(unknown.status).toBe(404);
  });

  it.each(routes)("%s: without a key is 401", async (path) => {
    expect((await call(platform, path)).status).toBe(401);
  });

  it("serves the public key without credentials", async () => {
    const key = await call(platform, "/audit/public-key");

    expect(key.status).toBe(200);
    expect(key.body).toMatchObject({ algorithm: "Ed25519", keyId: platform.auditKeyId, publicKey: platform.auditPublicKey });
    expect(key.body.keys.map((k: { keyId: string }) => k.keyId)).toContain(platform.auditKeyId);
  });
});
