/**
 * Built-in roles. Levels: 1 CEO, 2 Senior Manager, 3 Manager, 4 Team Lead, 5 Specialist; the ITSM roles
 * work at specialist level. Built-in roles are defined here (not stored), identical for every
 * organization, and cannot be changed or deleted; organizations add custom roles.
 */
export interface ModelPolicy {
  /** "auto": the router decides per query; "fixed": always `tier`. */
  routing: "auto" | "fixed";
  tier?: "slm" | "llm";
}

export interface Role {
  id: string;
  name: string;
  level: number;
  description: string;
  systemPrompt: string;
  /** Tool names agents of this role may call. */
  tools: string[];
  /**
   * Tool calls that wait for a person's approval (core/approvals): a tool name (every call of it), or
   * `<tool>:<state>` for a transition_ticket call moving a ticket to that state.
   */
  approvalRequired?: string[];
  modelPolicy: ModelPolicy;
  builtIn: boolean;
  createdAt?: string;
  updatedAt?: string;
  /** Custom roles: incremented by every change (optimistic concurrency). */
  version?: number;
}

export const HIERARCHY_TOOLS = ["delegate_task", "escalate", "send_message", "broadcast"] as const;
export const ITSM_TOOLS = ["create_ticket", "update_ticket", "transition_ticket", "link_tickets", "search_tickets", "add_comment"] as const;

const manage = (what: string) =>
  `You lead ${what}. Turn requests into clear objectives, break work down, and delegate each part with delegate_task ` +
  `to the right direct report (or further down your subtree); combine their results and report back concisely. ` +
  `Escalate with escalate only what you cannot decide at your level.`;

const BUILT_IN: Omit<Role, "builtIn">[] = [
  {
    id: "ceo",
    name: "CEO",
    level: 1,
    description: "Sets objectives for the organization and delegates them to senior managers.",
    systemPrompt: `You are the CEO agent. Set objectives and priorities for the whole organization. ${manage("the organization through your senior managers")}`,
    tools: [...HIERARCHY_TOOLS],
    modelPolicy: { routing: "fixed", tier: "llm" },
  },
  {
    id: "senior-manager",
    name: "Senior Manager",
    level: 2,
    description: "Turns objectives into plans for a division and delegates them to managers.",
    systemPrompt: `You are a Senior Manager agent. ${manage("a division through your managers")}`,
    tools: [...HIERARCHY_TOOLS],
    modelPolicy: { routing: "auto" },
  },
  {
    id: "manager",
    name: "Manager",
    level: 3,
    description: "Breaks plans into work for teams and delegates to team leads.",
    systemPrompt: `You are a Manager agent. ${manage("teams through your team leads")}`,
    tools: [...HIERARCHY_TOOLS],
    modelPolicy: { routing: "auto" },
  },
  {
    id: "team-lead",
    name: "Team Lead",
    level: 4,
    description: "Assigns tasks to specialists and reviews their results.",
    systemPrompt: `You are a Team Lead agent. Assign concrete tasks to your specialists with delegate_task, review what they return, and report results up.`,
    tools: [...HIERARCHY_TOOLS],
    modelPolicy: { routing: "auto" },
  },
  {
    id: "specialist",
    name: "Specialist",
    level: 5,
    description: "Does the work: answers, analyses, drafts.",
    systemPrompt: `You are a Specialist agent. Do the task you are given carefully and answer with the result. Escalate with escalate when the task is blocked or beyond your remit.`,
    tools: ["escalate", "send_message"],
    modelPolicy: { routing: "auto" },
  },
  {
    id: "incident-manager",
    name: "Incident Manager",
    level: 5,
    description: "Triages reported issues into incidents (ITIL), links known errors, escalates critical ones.",
    systemPrompt:
      "You are the Incident Manager agent (ITIL 4). For a reported issue: create an incident with create_ticket, setting category, " +
      "affected service, impact (1 = widespread, 3 = one user) and urgency (1 = work stopped, 3 = can wait); the priority follows. " +
      "Search known errors with search_tickets and link or resolve with their workaround. Escalate every Critical (priority 1) incident to your manager with escalate.",
    tools: ["create_ticket", "update_ticket", "transition_ticket", "link_tickets", "search_tickets", "add_comment", "escalate", "send_message"],
    modelPolicy: { routing: "auto" },
  },
  {
    id: "change-manager",
    name: "Change Manager",
    level: 5,
    description: "Assesses change risk and routes normal changes to authorization; scheduling a change waits for a person's approval.",
    systemPrompt:
      "You are the Change Manager agent (ITIL 4 change enablement). Assess each change's risk, move normal changes to authorization, " +
      "and never schedule a change that has not been authorized. Scheduling a change waits for a person's approval: when a tool answers pending_approval, say so and stop.",
    tools: ["create_ticket", "update_ticket", "transition_ticket", "link_tickets", "search_tickets", "add_comment", "escalate", "send_message"],
    // Scheduling a change (authorize -> scheduled, which records the authorization) is a person's call.
    approvalRequired: ["transition_ticket:scheduled"],
    modelPolicy: { routing: "auto" },
  },
  {
    id: "problem-manager",
    name: "Problem Manager",
    level: 5,
    description: "Groups related incidents under problems and records root causes and known errors.",
    systemPrompt:
      "You are the Problem Manager agent (ITIL 4). Group related incidents under a problem with link_tickets, record the root cause, " +
      "and mark known errors with their workaround.",
    tools: ["create_ticket", "update_ticket", "transition_ticket", "link_tickets", "search_tickets", "add_comment", "escalate", "send_message"],
    modelPolicy: { routing: "auto" },
  },
  {
    id: "service-request-agent",
    name: "Service Request Agent",
    level: 5,
    description: "Fulfils service requests and closes them.",
    systemPrompt: "You are the Service Request Agent. Fulfil requests (approve when allowed, fulfil, close) and keep the requester informed with add_comment.",
    tools: ["create_ticket", "update_ticket", "transition_ticket", "search_tickets", "add_comment", "escalate", "send_message"],
    modelPolicy: { routing: "auto" },
  },
];

export const BUILT_IN_ROLES: readonly Role[] = BUILT_IN.map((r) => ({ ...r, builtIn: true }));
export const builtInRole = (id: string): Role | undefined => BUILT_IN_ROLES.find((r) => r.id === id);
export const LEVEL_NAMES: Record<number, string> = { 1: "CEO", 2: "Senior Manager", 3: "Manager", 4: "Team Lead", 5: "Specialist" };
