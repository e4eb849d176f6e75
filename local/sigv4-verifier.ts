import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";

/** Credentials the local platform generates per run and gives to its in-process handlers. */
export interface LocalCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

export interface SigV4VerifierOptions {
  credentials: LocalCredentials;
  /** The signing name the client must use (`execute-api` for the API Gateway Management API). */
  service: string;
  /** How far x-amz-date may be from now, either way (AWS: 5 minutes). */
  maxSkewMs?: number;
  now?: () => number;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === "string" ? data : data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);

/** The SHA-256 (and HMAC-SHA-256 when given a secret) the signer expects, on node:crypto. */
export class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/** `a=1&b=%20` -> { a: "1", b: " " } as the signer expects it (no `+` for space, repeated keys as arrays). */
function parseQuery(search: string): Record<string, string | string[]> | undefined {
  const query: Record<string, string | string[]> = {};
  for (const pair of search.replace(/^\?/, "").split("&")) {
    if (!pair) continue;
    const eq = pair.indexOf("=");
    let key: string, value: string;
    try {
      key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? "" : decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined;
    }
    const previous = query[key];
    query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
  }
  return query;
}

/**
 * Checks an AWS Signature Version 4 `Authorization` header the way AWS does, by signing the same
 * canonical request again with the shared secret and comparing in constant time: the access key id,
 * service and date scope must be ours, x-amz-date within the allowed skew, the body must match the
 * signed payload hash. A local stand-in for the IAM check in front of API Gateway's @connections API.
 */
export function createSigV4Verifier({ credentials, service, maxSkewMs = 5 * 60_000, now = Date.now }: SigV4VerifierOptions) {
  // One signer per region: it caches the derived signing key (four HMACs) for the day. Few regions
  // are ever used; the bound only stops a caller from growing the map.
  const signers = new Map<string, SignatureV4>();
  const signerFor = (region: string): SignatureV4 => {
    let signer = signers.get(region);
    if (!signer) {
      if (signers.size >= 8) signers.clear();
      signer = new SignatureV4({ credentials, region, service, sha256: Sha256, applyChecksum: false });
      signers.set(region, signer);
    }
    return signer;
  };

  /** Cheap checks that need no body: run them before reading one, so an unsigned caller costs nothing. */
  function precheck(req: IncomingMessage): Verdict & { parsed?: RegExpExecArray; date?: Date } {
    const authorization = req.headers.authorization;
    if (!authorization) return { ok: false, reason: "Missing Authentication Token" };
    const parsed = AUTHORIZATION.exec(authorization);
    if (!parsed) return { ok: false, reason: "Authorization header is not AWS4-HMAC-SHA256" };
    const [, accessKeyId, scopeDate, , scopeService, signedHeaders] = parsed;
    if (!equal(accessKeyId!, credentials.accessKeyId)) return { ok: false, reason: "The security token included in the request is invalid" };
    if (scopeService !== service) return { ok: false, reason: `Credential should be scoped to correct service: '${service}'` };
    const amzDate = req.headers["x-amz-date"];
    const d = typeof amzDate === "string" ? AMZ_DATE.exec(amzDate) : null;
    if (!d) return { ok: false, reason: "x-amz-date is missing or malformed" };
    const date = new Date(Date.UTC(+d[1]!, +d[2]! - 1, +d[3]!, +d[4]!, +d[5]!, +d[6]!));
    if (Number.isNaN(date.getTime()) || amzDate!.slice(0, 8) !== scopeDate) return { ok: false, reason: "x-amz-date does not match the credential scope" };
    if (Math.abs(now() - date.getTime()) > maxSkewMs) return { ok: false, reason: "Signature expired" };
    const names = signedHeaders!.split(";");
    if (!names.includes("host") || !names.includes("x-amz-date")) return { ok: false, reason: "host and x-amz-date must be signed" };
    return { ok: true, parsed, date };
  }

  /** Full check: recomputes the signature over the request as received (raw path, signed headers, body). */
  async function verify(req: IncomingMessage, rawPath: string, search: string, body: Buffer): Promise<Verdict> {
    const first = precheck(req);
    if (!first.ok) return first;
    const [, , , region, , signedHeaders, signature] = first.parsed!;
    const bodyHash = createHash("sha256").update(body).digest("hex");
    const declaredHash = req.headers["x-amz-content-sha256"];
    if (declaredHash !== undefined && declaredHash !== bodyHash) return { ok: false, reason: "The body does not match x-amz-content-sha256" };
    const query = parseQuery(search);
    if (!query) return { ok: false, reason: "The signature does not match" };

    // Only what the client signed goes into the canonical request, with the values that arrived.
    const names = signedHeaders!.split(";");
    const headers: Record<string, string> = {};
    for (const name of names) {
      const value = req.headers[name];
      if (value === undefined) return { ok: false, reason: `Signed header '${name}' is missing` };
      headers[name] = Array.isArray(value) ? value.join(",") : value;
    }
    const signer = signerFor(region!);
    const signed = await signer.sign(
      { method: req.method ?? "GET", protocol: "http:", hostname: headers.host ?? "", path: rawPath, query, headers, body },
      { signingDate: first.date!, signableHeaders: new Set(names) },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(signed.headers.authorization ?? ""))?.[1] ?? "";
    return equal(expected, signature!) ? { ok: true } : { ok: false, reason: "The request signature we calculated does not match the signature you provided" };
  }

  return { precheck, verify };
}

/** Constant-time string comparison (lengths are not secret here: ids and hex digests of fixed size). */
function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
