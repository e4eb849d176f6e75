import { invalidInput } from "../errors";
import { entityNamesTreatedAs } from "../db/entities";
import { canonicalJson, type AuditAction, type AuditChange, type ChangeSummary, type JsonValue } from "./entry";

/**
 * Turns one DynamoDB stream record of the platform's table into an audit change (or decides that the
 * record is not audited). Pure: the images arrive already unmarshalled to plain objects.
 */

/**
 * Entity types whose changes are audited. This list and the two below are derived from the entity
 * registry (core/db/entities.ts), where each item type and its audit treatment are declared once.
 */
export const AUDITED_ENTITY_TYPES: readonly string[] = entityNamesTreatedAs("recorded");

/** High-churn technical items and derived state that say nothing about what a tenant did. */
export const NOISE_ENTITY_TYPES: readonly string[] = entityNamesTreatedAs("noise");

/** The audit log's own items: auditing them would make every append produce another append. */
export const AUDIT_OWN_ENTITY_TYPES: readonly string[] = entityNamesTreatedAs("own");

/** Everything `toAuditChange` drops by type; build the event-source filter as "entity not in this list". */
export const IGNORED_ENTITY_TYPES: readonly string[] = [...NOISE_ENTITY_TYPES, ...AUDIT_OWN_ENTITY_TYPES];

/**
 * Attributes that exist for the table's or the entry's sake: never in a summary. `orgId`, `id`,
 * `updatedAt`/`createdAt` and `updatedBy` are carried by the entry itself (orgId, entity.id, time, actor).
 */
export const BOOKKEEPING_ATTRIBUTES: readonly string[] = [
  "pk",
  "sk",
  "gsi1pk",
  "gsi1sk",
  "ttl",
  "entity",
  "orgId",
  "id",
  "createdAt",
  "updatedAt",
  "updatedBy",
];

const bookkeeping = new Set(BOOKKEEPING_ATTRIBUTES);
const ignoredTypes = new Set(IGNORED_ENTITY_TYPES);
/** Further GSI key attributes (gsi2pk, ...) are bookkeeping too, whenever they get added. */
const GSI_KEY = /^gsi\d+(pk|sk)$/i;

/** Names whose values never reach the log; the log records only that they changed. */
export const SECRET_NAME = /secret|password|token/i;

/** One stream record, as the consumer hands it over (images unmarshalled to plain objects). */
export interface StreamChangeRecord {
  eventName: "INSERT" | "MODIFY" | "REMOVE";
  eventId: string;
  sequenceNumber: string;
  /**
   * When DynamoDB recorded the change. A number is epoch *seconds* (fractions allowed), as in Lambda's
   * `ApproximateCreationDateTime`; a Date or an ISO string is taken as is.
   */
  approximateCreationTime: Date | number | string;
  oldImage?: Record<string, unknown>;
  newImage?: Record<string, unknown>;
  /** Present on TTL deletions: `{ type: "Service", principalId: "dynamodb.amazonaws.com" }`. */
  userIdentity?: { type?: string; principalId?: string };
}

const ACTIONS: Record<StreamChangeRecord["eventName"], AuditAction> = {
  INSERT: "insert",
  MODIFY: "modify",
  REMOVE: "remove",
};

/** Actor recorded for items that DynamoDB's TTL process deleted. */
export const TTL_ACTOR = "system:ttl";

/** Whether changes of an entity type are audited. Unknown types are: an audit log errs on the side of recording. */
export function isAuditedEntityType(type: string): boolean {
  return !ignoredTypes.has(type);
}

/** Whether an attribute is bookkeeping (excluded from summaries). */
export function isBookkeepingAttribute(name: string): boolean {
  return bookkeeping.has(name) || GSI_KEY.test(name);
}

/**
 * The audit change for one stream record, or null when the record is not audited: an ignored entity
 * type, an item outside any tenant (`pk` not `T#<orgId>...`), an item without an `entity` type, or a
 * MODIFY where nothing but bookkeeping attributes changed.
 *
 * @throws DomainError `audit_record_invalid` when the record lacks the image its event needs (the stream
 * is not NEW_AND_OLD_IMAGES) or carries an unreadable time: a configuration error must not pass silently.
 */
export function toAuditChange(record: StreamChangeRecord): AuditChange | null {
  const action = ACTIONS[record.eventName];
  if (!action) throw invalidInput(`Unknown stream event '${String(record.eventName)}'.`, [], "audit_record_invalid");
  const { oldImage, newImage } = record;
  if (action !== "insert" && !oldImage) throw missingImage(record, "old");
  if (action !== "remove" && !newImage) throw missingImage(record, "new");
  // The image that describes the item as it is (or was, for a remove).
  const image = (action === "remove" ? oldImage : newImage) as Record<string, unknown>;

  const orgId = tenantOf(image.pk);
  const type = image.entity;
  if (orgId === null || typeof type !== "string" || !isAuditedEntityType(type)) return null;

  const before = action === "insert" ? {} : attributes(oldImage!);
  const after = action === "remove" ? {} : attributes(newImage!);
  const fields = changedFields(before, after);
  if (fields.length === 0) return null;

  return {
    orgId,
    time: isoTime(record),
    action,
    entity: { type, id: entityId(image) },
    actor: actorOf(action, record),
    summary: summarize(fields, before, after),
    source: { eventId: record.eventId, sequenceNumber: record.sequenceNumber },
  };
}

function missingImage(record: StreamChangeRecord, which: "old" | "new") {
  return invalidInput(
    `Stream record ${record.eventId} (${record.eventName}) has no ${which} image: the stream must be NEW_AND_OLD_IMAGES.`,
    [],
    "audit_record_invalid",
  );
}

/** `T#<orgId>` or `T#<orgId>#...` -> orgId; anything else is not a tenant item. */
function tenantOf(pk: unknown): string | null {
  if (typeof pk !== "string" || !pk.startsWith("T#")) return null;
  const orgId = pk.slice(2).split("#", 1)[0];
  return orgId ? orgId : null;
}

/** Singletons and counters (settings, usage, counter) have no `id`: their sort key names them. */
function entityId(image: Record<string, unknown>): string {
  if (typeof image.id === "string" || typeof image.id === "number") return String(image.id);
  return typeof image.sk === "string" ? image.sk : "";
}

function isoTime(record: StreamChangeRecord): string {
  const t = record.approximateCreationTime;
  const ms = t instanceof Date ? t.getTime() : typeof t === "number" ? Math.round(t * 1000) : Date.parse(t);
  if (!Number.isFinite(ms)) {
    throw invalidInput(`Stream record ${record.eventId} has an unreadable time '${String(t)}'.`, [], "audit_record_invalid");
  }
  return new Date(ms).toISOString();
}

/**
 * Writers stamp `updatedBy` together with `updatedAt`. A MODIFY that did not restamp them (an atomic
 * counter increment, say) carries the previous writer's name, so it is attributed to nobody rather than
 * to the wrong principal. A REMOVE cannot stamp anything; only TTL deletions identify themselves.
 */
function actorOf(action: AuditAction, record: StreamChangeRecord): string | null {
  const name = (value: unknown) => (typeof value === "string" && value !== "" ? value : null);
  if (action === "insert") return name(record.newImage?.updatedBy);
  if (action === "modify") {
    const restamped =
      record.newImage?.updatedAt !== record.oldImage?.updatedAt || record.newImage?.updatedBy !== record.oldImage?.updatedBy;
    return restamped ? name(record.newImage?.updatedBy) : null;
  }
  const identity = record.userIdentity;
  return identity?.type === "Service" && identity.principalId === "dynamodb.amazonaws.com" ? TTL_ACTOR : null;
}

/** The non-bookkeeping attributes of an image, as JSON values. */
function attributes(image: Record<string, unknown>): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [name, value] of Object.entries(image)) {
    if (isBookkeepingAttribute(name)) continue;
    const json = toJson(value);
    if (json !== undefined) out[name] = json;
  }
  return out;
}

/** Names present on either side whose values differ, in JCS (UTF-16 code unit) order. */
function changedFields(before: Record<string, JsonValue>, after: Record<string, JsonValue>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((name) => !sameJson(before[name], after[name])).sort();
}

function summarize(fields: string[], before: Record<string, JsonValue>, after: Record<string, JsonValue>): ChangeSummary {
  const summary: ChangeSummary = { fields, redacted: [], before: {}, after: {} };
  for (const field of fields) {
    const pointer = `/${escapePointer(field)}`;
    if (SECRET_NAME.test(field)) {
      summary.redacted.push(pointer);
      continue;
    }
    collectChangedSecrets(before[field], after[field], pointer, summary.redacted);
    if (field in before) summary.before[field] = withoutSecrets(before[field]!);
    if (field in after) summary.after[field] = withoutSecrets(after[field]!);
  }
  summary.redacted.sort();
  return summary;
}

/** Pointers of secret-named members, at any depth, whose value differs between the two sides. */
function collectChangedSecrets(b: JsonValue | undefined, a: JsonValue | undefined, path: string, out: string[]): void {
  const keys = new Set([...childKeys(b), ...childKeys(a)]);
  for (const key of [...keys].sort()) {
    const cb = child(b, key);
    const ca = child(a, key);
    const pointer = `${path}/${escapePointer(key)}`;
    if (SECRET_NAME.test(key)) {
      if (!sameJson(cb, ca)) out.push(pointer);
    } else {
      collectChangedSecrets(cb, ca, pointer, out);
    }
  }
}

function withoutSecrets(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (value !== null && typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [key, member] of Object.entries(value)) if (!SECRET_NAME.test(key)) out[key] = withoutSecrets(member);
    return out;
  }
  return value;
}

function childKeys(value: JsonValue | undefined): string[] {
  if (Array.isArray(value)) return value.map((_, i) => String(i));
  return value !== null && typeof value === "object" ? Object.keys(value) : [];
}

function child(value: JsonValue | undefined, key: string): JsonValue | undefined {
  if (Array.isArray(value)) return value[Number(key)];
  return value !== null && typeof value === "object" ? value[key] : undefined;
}

function sameJson(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return canonicalJson(a) === canonicalJson(b);
}

/** RFC 6901: `~` -> `~0`, `/` -> `~1`. */
function escapePointer(key: string): string {
  return key.replaceAll("~", "~0").replaceAll("/", "~1");
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Unmarshalled DynamoDB values -> I-JSON, so every summary can be canonicalized: sets become sorted
 * arrays, binaries base64 strings, bigints (numbers a double cannot hold) decimal strings. DynamoDB
 * strings cannot hold lone surrogates; they are replaced rather than allowed to poison the stream.
 */
function toJson(value: unknown): JsonValue | undefined {
  switch (typeof value) {
    case "string":
      return value.replace(LONE_SURROGATE, "\uFFFD");
    case "number":
      return Number.isFinite(value) ? value : String(value);
    case "boolean":
      return value;
    case "bigint":
      return value.toString();
    case "undefined":
    case "function":
    case "symbol":
      return undefined;
  }
  if (value === null) return null;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Set) {
    const members = [...value].map(toJson).filter((m): m is JsonValue => m !== undefined);
    return members.sort((x, y) => compareUnits(canonicalJson(x), canonicalJson(y)));
  }
  if (Array.isArray(value)) return value.map((member) => toJson(member) ?? null);
  const out: Record<string, JsonValue> = {};
  for (const [key, member] of Object.entries(value as Record<string, unknown>)) {
    const json = toJson(member);
    if (json !== undefined) out[key.replace(LONE_SURROGATE, "\uFFFD")] = json;
  }
  return out;
}

function compareUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
