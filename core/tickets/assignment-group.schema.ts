import { z } from "../shared/zod";
import { idSchema } from "../shared/id.schema";

/**
 * Assignment groups (ITIL; ServiceNow `sys_user_group` as used by `assignment_group`): a named team of
 * agents of one organization that tickets are assigned to. A ticket names a group besides (or instead
 * of) an assignee; an assignee set together with a group must be one of its members. The group's
 * queue is its open tickets (`GET /tickets?assignmentGroup=<id>`).
 */

/** Most members of one group: the item must stay small, and a team of more is an organization. */
export const MAX_GROUP_MEMBERS = 100;

const AgentId = idSchema("must be an agent id");
const Members = z
  .array(AgentId)
  .max(MAX_GROUP_MEMBERS, `at most ${MAX_GROUP_MEMBERS} members`)
  .refine((ids) => new Set(ids).size === ids.length, "must not repeat an agent")
  .meta({ description: "Agent ids of the members" });

export const CreateAssignmentGroupBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(80),
    description: z.string().trim().max(2000).default(""),
    members: Members.default([]),
    manager: AgentId.nullable().optional().meta({ description: "The agent who manages the group (optional)" }),
  })
  .meta({ id: "CreateAssignmentGroup" });

export const UpdateAssignmentGroupBody = z
  .strictObject({
    name: z.string().trim().min(1, "must not be empty").max(80).optional(),
    description: z.string().trim().max(2000).optional(),
    members: Members.optional(),
    manager: AgentId.nullable().optional(),
    version: z.number().int().min(1).optional().meta({ description: "The version the change was made on; 409 `concurrent_modification` when the group changed since" }),
  })
  .refine((body) => Object.keys(body).some((key) => key !== "version"), { message: "at least one field must be given" })
  .meta({ id: "UpdateAssignmentGroup" });

export const AssignmentGroupMember = z
  .object({ id: z.string(), name: z.string().meta({ description: "The agent's name (the id when the agent no longer exists)" }) })
  .meta({ id: "AssignmentGroupMember" });

export const AssignmentGroup = z
  .object({
    id: z.string(),
    name: z.string(),
    description: z.string(),
    members: z.array(z.string()).meta({ description: "Agent ids of the members" }),
    memberNames: z.array(AssignmentGroupMember).meta({ description: "The members with their names, in the order of members" }),
    manager: z.string().nullable(),
    managerName: z.string().nullable(),
    openTickets: z.number().int().meta({ description: "Open tickets assigned to the group (its queue's length)" }),
    createdAt: z.string(),
    createdBy: z.string(),
    updatedAt: z.string(),
    updatedBy: z.string(),
    version: z.number().int(),
  })
  .meta({ id: "AssignmentGroup" });

/** The id of a group in a path (case-insensitive, like every id). */
export const AssignmentGroupId = idSchema("must be an assignment group id");

export type CreateAssignmentGroupInput = z.infer<typeof CreateAssignmentGroupBody>;
export type UpdateAssignmentGroupInput = z.infer<typeof UpdateAssignmentGroupBody>;
export type AssignmentGroup = z.infer<typeof AssignmentGroup>;
