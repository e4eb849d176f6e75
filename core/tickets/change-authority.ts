import { TicketSettings, type TicketSettings as Settings } from "./ticket.schema";
import type { AgentDirectory, ChangeAuthority, TicketActor, TicketSettingsStore } from "./ports";

/**
 * An organization's ticket settings before it changes them: every key holder may authorize changes
 * (people act through keys; the organization decides who gets one), and so may agents whose role is
 * Change Manager or whose level is Manager or above (level <= 3).
 */
export const DEFAULT_TICKET_SETTINGS: Settings = TicketSettings.parse({});

export interface ChangeAuthorityDeps {
  settings: TicketSettingsStore;
  /** Without a directory, only agents listed by id in the settings have authority (no role is known). */
  agents?: AgentDirectory;
}

/** The default change authority: the organization's `changeAuthority` settings, applied to people and agents. */
export function createChangeAuthority({ settings, agents }: ChangeAuthorityDeps): ChangeAuthority {
  return {
    async mayAuthorize(actor: TicketActor): Promise<boolean> {
      const policy = ((await settings.get(actor.orgId)) ?? DEFAULT_TICKET_SETTINGS).changeAuthority;
      if (actor.kind === "person") return policy.keyHolders || (actor.keyId !== undefined && policy.keyIds.includes(actor.keyId));
      if (policy.agentIds.includes(actor.agentId)) return true;
      const agent = await agents?.find(actor.orgId, actor.agentId);
      if (!agent) return false;
      return policy.roles.includes(agent.roleId) || (policy.maxLevel !== null && agent.level <= policy.maxLevel);
    },
  };
}
