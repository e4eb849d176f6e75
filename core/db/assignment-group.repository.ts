import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { AssignmentGroupRecord, AssignmentGroupStore, QueueMove } from "../tickets/ports";
import { isConditionFailed } from "./client";
import { processCursors } from "./cursor";
import { pageSize } from "./item";
import { entities } from "./entities";
import { keys } from "./keys";
import type { TransactItem } from "./transact";
import type { RepositoryOptions } from "./organization.repository";

type Item = Record<string, unknown>;

function fromItem(item: Item | undefined): AssignmentGroupRecord | undefined {
  const record = entities.assignmentGroup.fromItem<AssignmentGroupRecord>(item);
  // A group whose counter was never touched has no tickets.
  return record && { ...record, openTickets: typeof record.openTickets === "number" ? record.openTickets : 0 };
}

/**
 * The transaction items that move a ticket between group queues (written with the ticket by
 * core/db/ticket.repository.ts): the group it joins must exist (part `assignmentGroup`), and each
 * group's `openTickets` follows, so that deleting a group can be conditional on it having none.
 */
export function queueMoveItems(table: string, orgId: string, move: QueueMove | undefined): (readonly ["assignmentGroup" | "groupLeave", TransactItem])[] {
  const count = (id: string, delta: number) => ({
    Update: {
      TableName: table,
      Key: keys.assignmentGroup(orgId, id),
      UpdateExpression: "ADD openTickets :delta",
      // Never creates a group from nothing (a bare counter item) when the group is gone.
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":delta": delta },
    },
  });
  if (!move || move.join === move.leave) return [];
  return [
    ...(move.join ? [["assignmentGroup", count(move.join, 1)] as const] : []),
    ...(move.leave ? [["groupLeave", count(move.leave, -1)] as const] : []),
  ];
}

/** Assignment groups (core/tickets/assignment-group-service.ts), one item each under the tenant. */
export function createAssignmentGroupStore({ client, table, cursors = processCursors }: RepositoryOptions): AssignmentGroupStore {
  async function get(orgId: string, id: string): Promise<AssignmentGroupRecord | undefined> {
    const { Item } = await client.send(new GetCommand({ TableName: table, Key: keys.assignmentGroup(orgId, id), ConsistentRead: true }));
    return fromItem(Item);
  }

  return {
    async create(orgId, group) {
      await client.send(
        new PutCommand({
          TableName: table,
          Item: { ...keys.assignmentGroup(orgId, group.id), ...entities.assignmentGroup.stamp, orgId, ...group },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    },

    get,

    async list(orgId, { limit, cursor }) {
      const pk = keys.tenantPk(orgId);
      const scope = `assignment-groups:${orgId}`;
      const page = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: "pk = :pk AND begins_with(sk, :prefix)",
          ExpressionAttributeValues: { ":pk": pk, ":prefix": keys.assignmentGroupPrefix },
          Limit: pageSize(limit),
          ExclusiveStartKey: cursors.decode(cursor, scope, { pk }),
        }),
      );
      const items = (page.Items ?? []).map((item) => fromItem(item)!);
      const next = cursors.encode(page.LastEvaluatedKey, scope);
      return next ? { items, cursor: next } : { items };
    },

    async save(orgId, group, expectedVersion) {
      try {
        await client.send(
          new UpdateCommand({
            TableName: table,
            Key: keys.assignmentGroup(orgId, group.id),
            // `openTickets` is the ticket store's: a group edit never writes it.
            UpdateExpression:
              "SET #name = :name, description = :description, members = :members, manager = :manager, updatedAt = :at, updatedBy = :by, #version = :next",
            ConditionExpression: "attribute_exists(pk) AND #version = :expected",
            ExpressionAttributeNames: { "#name": "name", "#version": "version" },
            ExpressionAttributeValues: {
              ":name": group.name,
              ":description": group.description,
              ":members": group.members,
              ":manager": group.manager,
              ":at": group.updatedAt,
              ":by": group.updatedBy,
              ":next": expectedVersion + 1,
              ":expected": expectedVersion,
            },
          }),
        );
        return "ok";
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        return (await get(orgId, group.id)) ? "concurrent_modification" : "missing";
      }
    },

    async remove(orgId, id) {
      try {
        await client.send(
          new DeleteCommand({
            TableName: table,
            Key: keys.assignmentGroup(orgId, id),
            // Atomic with the ticket writes that count the queue: a ticket joining meanwhile makes this fail.
            ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(openTickets) OR openTickets <= :zero)",
            ExpressionAttributeValues: { ":zero": 0 },
          }),
        );
        return "ok";
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        return (await get(orgId, id)) ? "in_use" : "missing";
      }
    },
  };
}
