import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { conflict, invalidInput } from "../errors";
import { DEFAULT_AUTO_CLOSE_DAYS, NUMBER_PREFIX, type HistoryEntry, type TicketSettings } from "../tickets/ticket.schema";
import type { TicketQuery, TicketRecord, TicketSettingsStore, TicketStore, TicketWrite } from "../tickets/ports";
import { FINAL_STATES, isFinal } from "../tickets/state-machines";
import { queueMoveItems } from "./assignment-group.repository";
import { isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import { transactWrite } from "./transact";
import { createUsageCounters } from "./usage-counters";
import type { RepositoryOptions } from "./organization.repository";

/** A filtered list reads at most this many query pages per request, then returns what it has with a cursor. */
const MAX_ROUNDS = 10;
/** Items evaluated per query page when a filter may reject some. */
const FILTERED_BATCH = 100;
/** Most history entries returned with a ticket (the latest ones). */
const DEFAULT_HISTORY_MAX = 1000;

type Item = Record<string, unknown>;

/** Text the `q` filter searches: number, title, the start of the description, category, service, caller (name and id). */
const searchTextOf = (t: TicketRecord): string => {
  const caller = typeof t.caller === "string" ? [t.caller, t.callerName ?? ""] : [t.caller.name, t.caller.id ?? ""];
  return [t.number, t.title, t.description.slice(0, 2000), t.category ?? "", t.affectedService ?? "", ...caller].join(" ").toLowerCase();
};

function fromItem(item: Item | undefined): TicketRecord | undefined {
  if (!item) return undefined;
  // Without the attributes that are not part of the record (core/db/entities.ts).
  const record = entities.ticket.fromItem<Item>(item)!;
  // A string set comes back as a Set; the record keeps a plain array.
  record.breachAnnounced = item.breachAnnounced instanceof Set ? [...item.breachAnnounced].sort() : [];
  return record as unknown as TicketRecord;
}

export function createTicketStore({ client, table, cursors = processCursors }: RepositoryOptions): TicketStore {
  const counters = createUsageCounters(table);
  /** The ticket's attributes as written by create and save (never `breachAnnounced`: announceBreach owns it). */
  function attributes(ticket: TicketRecord): Item {
    const { breachAnnounced: _announced, ...record } = ticket;
    return { ...entities.ticket.stamp, ...record, searchText: searchTextOf(ticket) };
  }

  const historyPut = (orgId: string, ticketId: string, entry: HistoryEntry) => ({
    Put: {
      TableName: table,
      Item: { ...keys.ticketHistory(orgId, ticketId, entry.seq), ...entities.ticketHistory.stamp, orgId, ticketId, ...entry, updatedBy: entry.actor },
      ConditionExpression: "attribute_not_exists(pk)",
    },
  });

  async function get(orgId: string, id: string): Promise<TicketRecord | undefined> {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.ticket(orgId, id), ConsistentRead: true }));
    return fromItem(Item);
  }

  return {
    async nextNumber(orgId, type) {
      const result = await client.send(new UpdateCommand(counters.nextTicketNumber(orgId, NUMBER_PREFIX[type])));
      return Number(result.Attributes?.count);
    },

    async returnNumber(orgId, type, taken) {
      try {
        await client.send(new UpdateCommand(counters.returnTicketNumber(orgId, NUMBER_PREFIX[type], taken)));
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },

    async countInPeriod(orgId, period) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.usage(orgId, period), ConsistentRead: true, ProjectionExpression: "tickets" }));
      return typeof Item?.tickets === "number" ? Item.tickets : 0;
    },

    async create(ticket, history, { period, limit }) {
      const result = await transactWrite(client, [
        // The quota, in the same transaction as the ticket: a refused ticket is never counted and a counted one always exists.
        ["ticketQuota", counters.ticketQuota(ticket.orgId, period, limit)],
        [
          "ticket",
          {
            Put: {
              TableName: table,
              Item: { ...keys.ticket(ticket.orgId, ticket.id), ...keys.ticketOpenIndex(ticket.orgId, ticket.id), ...attributes(ticket) },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        ],
        [
          "ticketNumber",
          {
            Put: {
              TableName: table,
              Item: { ...keys.ticketNumber(ticket.orgId, ticket.number), ...entities.ticketNumber.stamp, orgId: ticket.orgId, ticketId: ticket.id, updatedBy: ticket.createdBy },
              ConditionExpression: "attribute_not_exists(pk)",
            },
          },
        ],
        ...history.map((entry) => ["history", historyPut(ticket.orgId, ticket.id, entry)] as const),
        ...queueMoveItems(table, ticket.orgId, ticket.assignmentGroup ? { join: ticket.assignmentGroup } : undefined),
      ]);
      if (result.ok) return "created";
      if (result.failed === "ticketQuota") return "quota_exceeded";
      if (result.failed === "assignmentGroup") throw groupGone(ticket.assignmentGroup!);
      throw conflict(`Ticket ${ticket.number} already exists.`, "ticket_exists");
    },

    get,

    async getByNumber(orgId, number) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.ticketNumber(orgId, number), ConsistentRead: true }));
      return typeof Item?.ticketId === "string" ? get(orgId, Item.ticketId) : undefined;
    },

    async history(orgId, id, max = DEFAULT_HISTORY_MAX) {
      const entries: HistoryEntry[] = [];
      let start: Item | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues: { ":pk": keys.tenantPk(orgId), ":prefix": keys.ticketHistoryPrefix(id) },
            ScanIndexForward: false,
            ConsistentRead: true,
            Limit: max - entries.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const { seq, at, actor, action, changes, reason, note, visibility } = item;
          // Entries written before `link` existed carry the link only as the change's value.
          const link = item.link ?? (action === "linked" ? changes?.[0]?.to : undefined);
          entries.push({
            seq,
            at,
            actor,
            // Entries written before names were stored show the id.
            actorName: item.actorName ?? actor,
            action,
            changes,
            ...(reason ? { reason } : {}),
            ...(note ? { note } : {}),
            ...(visibility ? { visibility } : {}),
            ...(link ? { link } : {}),
          } as HistoryEntry);
        }
        start = page.LastEvaluatedKey;
      } while (start && entries.length < max);
      return entries.reverse();
    },

    async save(writes: TicketWrite[]) {
      const parts = writes.flatMap(({ ticket, expectedVersion, history, queue }) => {
        const item = attributes(ticket);
        const names: Record<string, string> = {};
        const values: Record<string, unknown> = { ":expected": expectedVersion };
        const sets: string[] = [];
        Object.entries(item).forEach(([name, value], i) => {
          if (value === undefined || name === "id" || name === "orgId") return;
          names[`#a${i}`] = name;
          values[`:v${i}`] = value;
          sets.push(`#a${i} = :v${i}`);
        });
        // An ended ticket leaves the sparse open-tickets index by losing its index attributes.
        const index = keys.ticketOpenIndex(ticket.orgId, ticket.id);
        let update = `SET ${sets.join(", ")}`;
        if (isFinal(ticket.state)) update += " REMOVE gsi1pk, gsi1sk";
        else {
          values[":gpk"] = index.gsi1pk;
          values[":gsk"] = index.gsi1sk;
          update = `SET ${sets.join(", ")}, gsi1pk = :gpk, gsi1sk = :gsk`;
        }
        names["#version"] = "version";
        const versioned = {
          Update: {
            TableName: table,
            Key: keys.ticket(ticket.orgId, ticket.id),
            UpdateExpression: update,
            ConditionExpression: "#version = :expected",
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          },
        };
        return [
          ["ticket", versioned] as const,
          ...history.map((entry) => ["history", historyPut(ticket.orgId, ticket.id, entry)] as const),
          ...queueMoveItems(table, ticket.orgId, queue),
        ];
      });
      // A version (or a history seq) taken meanwhile: the service reads again and retries.
      const result = await transactWrite(client, parts);
      // The group was deleted between the service's check and this write (the ticket condition held).
      if (!result.ok && result.conditions.includes("assignmentGroup") && !result.conditions.includes("ticket")) {
        throw groupGone(writes.find((w) => w.queue?.join)?.queue?.join ?? "");
      }
      if (!result.ok) throw conflict("The ticket was changed by someone else meanwhile; read it again and retry.", "concurrent_modification");
    },

    async list(orgId, query, { limit, cursor }) {
      const size = pageSize(limit);
      const useIndex = query.active === true;
      const pk = keys.tenantPk(orgId);
      const partition = keys.ticketOpenPartition(orgId);
      const filter = filterOf(query);
      const filtered = filter.expression !== undefined || query.accept !== undefined;
      const keyOf = (item: Item): Item =>
        useIndex ? { pk: item.pk, sk: item.sk, gsi1pk: item.gsi1pk, gsi1sk: item.gsi1sk } : { pk: item.pk, sk: item.sk };

      // A cursor is where the previous page stopped: pinned to this tenant (and index partition).
      // The scope names the list and its filters: a cursor only continues the listing it came from.
      const scope = `tickets:${orgId}:${JSON.stringify({ ...query, accept: undefined, words: query.words ?? [] })}`;
      let start: Item | undefined = cursors.decode(cursor, scope, useIndex ? { pk, gsi1pk: partition } : { pk });
      const found: { ticket: TicketRecord; key: Item }[] = [];
      let rounds = 0;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName: table,
            ...(useIndex
              ? { IndexName: "gsi1", KeyConditionExpression: "gsi1pk = :partition", ExpressionAttributeValues: { ":partition": partition, ...filter.values } }
              : {
                  KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
                  ExpressionAttributeValues: { ":pk": pk, ":prefix": keys.ticketPrefix, ...filter.values },
                }),
            ...(filter.expression ? { FilterExpression: filter.expression, ExpressionAttributeNames: filter.names } : {}),
            ScanIndexForward: false,
            // Limit bounds the items *evaluated*, before the filter: unfiltered, one page is exact.
            Limit: filtered ? Math.max(size, FILTERED_BATCH) : size,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of page.Items ?? []) {
          const ticket = fromItem(item)!;
          if (!query.accept || query.accept(ticket)) found.push({ ticket, key: keyOf(item) });
        }
        start = page.LastEvaluatedKey;
        rounds += 1;
      } while (start && found.length < size && rounds < MAX_ROUNDS);

      // More matches than fit: the next page starts right after the last one returned (items after it
      // that were evaluated are evaluated again, never skipped). Otherwise it starts where the query
      // stopped (everything before was returned or rejected).
      const items = found.slice(0, size);
      const next = found.length > size ? cursors.encode(items.at(-1)!.key, scope) : cursors.encode(start, scope);
      return next ? { items: items.map((f) => f.ticket), cursor: next } : { items: items.map((f) => f.ticket) };
    },

    async announceBreach(orgId, id, mark) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.ticket(orgId, id),
            // Does not touch `version`: announcing is not a change of the ticket, and must not make a
            // concurrent edit fail. `save` never writes this attribute, so it cannot undo it either.
            UpdateExpression: "ADD breachAnnounced :clock",
            ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(breachAnnounced) OR NOT contains(breachAnnounced, :name))",
            ExpressionAttributeValues: { ":clock": new Set([mark]), ":name": mark },
          }),
        );
        return true;
      } catch (error) {
        if (isConditionFailed(error)) return false;
        throw error;
      }
    },
  };
}

const groupGone = (id: string) =>
  invalidInput(`There is no assignment group '${id}' in this organization.`, [{ field: "assignmentGroup", message: `no assignment group '${id}' in this organization` }]);

/** The FilterExpression of the plain (stored-attribute) filters of a query. */
function filterOf(query: TicketQuery): { expression?: string; names: Record<string, string>; values: Record<string, unknown> } {
  const parts: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const equals = (attribute: string, value: unknown) => {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    parts.push(`#${attribute} = :${attribute}`);
  };
  if (query.type) equals("type", query.type);
  if (query.state) equals("state", query.state);
  if (query.priority !== undefined) equals("priority", query.priority);
  if (query.category) equals("category", query.category);
  if (query.service) equals("affectedService", query.service);
  if (query.knownError !== undefined) equals("knownError", query.knownError);
  if (query.assignee === "none") {
    names["#assignedTo"] = "assignedTo";
    values[":null"] = "NULL";
    parts.push("attribute_type(#assignedTo, :null)");
  } else if (query.assignee) equals("assignedTo", query.assignee);
  if (query.assignmentGroup) equals("assignmentGroup", query.assignmentGroup);
  if (query.active === false) {
    names["#state"] = "state";
    FINAL_STATES.forEach((state, i) => (values[`:final${i}`] = state));
    parts.push(`#state IN (${FINAL_STATES.map((_, i) => `:final${i}`).join(", ")})`);
  }
  (query.words ?? []).forEach((word, i) => {
    names["#searchText"] = "searchText";
    values[`:word${i}`] = word;
    parts.push(`contains(#searchText, :word${i})`);
  });
  return parts.length ? { expression: parts.join(" AND "), names, values } : { names, values };
}

export function createTicketSettingsStore({ client, table }: RepositoryOptions): TicketSettingsStore {
  return {
    async get(orgId) {
      const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.ticketSettings(orgId), ConsistentRead: true }));
      // Settings stored before auto-close existed get its default.
      return Item ? ({ changeAuthority: Item.changeAuthority, autoCloseDays: typeof Item.autoCloseDays === "number" ? Item.autoCloseDays : DEFAULT_AUTO_CLOSE_DAYS } as TicketSettings) : undefined;
    },
    async put(orgId, settings, actor) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.ticketSettings(orgId), ...entities.settings.stamp, id: "tickets", orgId, ...settings, updatedAt: new Date().toISOString(), updatedBy: actor },
        }),
      );
    },
  };
}
