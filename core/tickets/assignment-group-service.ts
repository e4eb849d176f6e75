import { type FieldError, conflict, invalidInput, notFound } from "../errors";
import { newId } from "../ids";
import { type Clock, systemClock } from "../shared/clock";
import type { AssignmentGroup, CreateAssignmentGroupInput, UpdateAssignmentGroupInput } from "./assignment-group.schema";
import type { AgentDirectory, AssignmentGroupRecord, AssignmentGroupStore, Page, PageRequest, TicketActor } from "./ports";

export interface AssignmentGroupServiceDeps {
  store: AssignmentGroupStore;
  /** Checks members and the manager, and names them; without it any agent id is accepted. */
  agents?: AgentDirectory;
  clock?: Clock;
}

/** Attempts of an edit without a version that keeps losing races with other edits of the group. */
const MAX_ATTEMPTS = 8;

/**
 * Assignment groups: CRUD for one organization (the actor's). Members and the manager must be agents
 * of the organization; an edit is conditional on the group's version (the one given, or the one read);
 * a group with open tickets cannot be deleted (409 `assignment_group_in_use`).
 */
export function createAssignmentGroupService({ store, agents, clock = systemClock }: AssignmentGroupServiceDeps) {
  async function checkAgents(orgId: string, members: readonly string[] | undefined, manager: string | null | undefined, errors: FieldError[]) {
    if (!agents) return;
    const found = await Promise.all((members ?? []).map((id) => agents.find(orgId, id)));
    found.forEach((agent, i) => {
      if (!agent) errors.push({ field: `members.${i}`, message: `no agent '${members![i]}' in this organization` });
    });
    if (manager && !(await agents.find(orgId, manager))) errors.push({ field: "manager", message: `no agent '${manager}' in this organization` });
  }

  /** The API view: the stored group with its members' and manager's names (the id for an agent that is gone). */
  async function view(orgId: string, group: AssignmentGroupRecord): Promise<AssignmentGroup> {
    const nameOf = async (id: string) => (agents ? ((await agents.find(orgId, id))?.name ?? id) : id);
    const [memberNames, managerName] = await Promise.all([
      Promise.all(group.members.map(async (id) => ({ id, name: await nameOf(id) }))),
      group.manager ? nameOf(group.manager) : Promise.resolve(null),
    ]);
    return { ...group, memberNames, managerName };
  }

  async function load(orgId: string, id: string): Promise<AssignmentGroupRecord> {
    const group = await store.get(orgId, id);
    if (!group) throw notFound("Assignment group", id);
    return group;
  }

  return {
    async create(actor: TicketActor, input: CreateAssignmentGroupInput): Promise<AssignmentGroup> {
      const errors: FieldError[] = [];
      await checkAgents(actor.orgId, input.members, input.manager, errors);
      if (errors.length) throw invalidInput(`The assignment group is invalid: ${errors.map((e) => e.field).join(", ")}.`, errors);
      const at = clock.now().toISOString();
      const group: AssignmentGroupRecord = {
        id: newId(),
        name: input.name,
        description: input.description,
        members: input.members,
        manager: input.manager ?? null,
        openTickets: 0,
        createdAt: at,
        createdBy: actor.actor,
        updatedAt: at,
        updatedBy: actor.actor,
        version: 1,
      };
      await store.create(actor.orgId, group);
      return view(actor.orgId, group);
    },

    async get(actor: TicketActor, id: string): Promise<AssignmentGroup> {
      return view(actor.orgId, await load(actor.orgId, id));
    },

    async list(actor: TicketActor, page: PageRequest): Promise<Page<AssignmentGroup>> {
      const result = await store.list(actor.orgId, page);
      const items = await Promise.all(result.items.map((group) => view(actor.orgId, group)));
      return result.cursor ? { items, cursor: result.cursor } : { items };
    },

    async update(actor: TicketActor, id: string, input: UpdateAssignmentGroupInput): Promise<AssignmentGroup> {
      const { version, ...fields } = input;
      const errors: FieldError[] = [];
      await checkAgents(actor.orgId, fields.members, fields.manager, errors);
      if (errors.length) throw invalidInput(`The assignment group is invalid: ${errors.map((e) => e.field).join(", ")}.`, errors);
      for (let attempt = 1; ; attempt++) {
        const group = await load(actor.orgId, id);
        if (version !== undefined && version !== group.version) {
          throw conflict(`The assignment group changed since version ${version} (it is at ${group.version}); read it again.`, "concurrent_modification", { version: group.version });
        }
        const next: AssignmentGroupRecord = {
          ...group,
          ...(fields.name !== undefined ? { name: fields.name } : {}),
          ...(fields.description !== undefined ? { description: fields.description } : {}),
          ...(fields.members !== undefined ? { members: fields.members } : {}),
          ...(fields.manager !== undefined ? { manager: fields.manager } : {}),
          updatedAt: clock.now().toISOString(),
          updatedBy: actor.actor,
          version: group.version + 1,
        };
        const outcome = await store.save(actor.orgId, next, group.version);
        if (outcome === "ok") return view(actor.orgId, next);
        if (outcome === "missing") throw notFound("Assignment group", id);
        // Changed meanwhile: an edit made on a given version is refused, one without is made again on the new one.
        if (version !== undefined || attempt >= MAX_ATTEMPTS) {
          throw conflict("The assignment group was changed by someone else meanwhile; read it again and retry.", "concurrent_modification");
        }
      }
    },

    async remove(actor: TicketActor, id: string): Promise<void> {
      const outcome = await store.remove(actor.orgId, id);
      if (outcome === "missing") throw notFound("Assignment group", id);
      if (outcome === "in_use") {
        const group = await store.get(actor.orgId, id);
        throw conflict(`The assignment group still has ${group?.openTickets ?? "some"} open tickets; reassign or close them first.`, "assignment_group_in_use", {
          openTickets: group?.openTickets ?? null,
        });
      }
    },
  };
}

export type AssignmentGroupService = ReturnType<typeof createAssignmentGroupService>;
