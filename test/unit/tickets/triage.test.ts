import { describe, expect, it } from "vitest";
import type { AgentRecord } from "../../../core/agents/agent.schema";
import { approvalRuleFor } from "../../../core/approvals/approval-service";
import type { TicketRecord } from "../../../core/tickets/ports";
import { decideTriage, similarity, tokens, triageAgent } from "../../../core/tickets/triage";

/** Triage's pure decisions (core/tickets/triage.ts) and the approval rule match (core/approvals). */
let seq = 0;
function ticket(extra: Partial<TicketRecord> = {}): TicketRecord {
  seq += 1;
  return {
    id: `01jtckt${String(seq).padStart(19, "0")}`,
    number: `INC${String(1000 + seq).padStart(7, "0")}`,
    type: "incident",
    title: "Something",
    description: "",
    category: null,
    impact: 3,
    urgency: 3,
    priority: 5,
    state: "new",
    assignedTo: null,
    links: [],
    defaulted: ["impact", "urgency"],
    ...extra,
  } as TicketRecord;
}
const im = { id: "01jagnt0000000000000000000", name: "Ines" };
const context = (candidates: TicketRecord[] = [], problems: TicketRecord[] = []) => ({ agent: im, candidates, problems });

describe("decideTriage", () => {
  it("fills impact, urgency, category and assignee the creator left out, with a reason each", () => {
    const plan = decideTriage(ticket({ title: "Payroll service down for all users" }), context());

    expect(plan.set).toEqual({ impact: 1, urgency: 1, category: "software", assignedTo: im.id });
    expect(plan.priority).toBe(1);
    expect(plan.reasons.join("\n")).toMatch(/Impact 1: the report says "all users"/);
    expect(plan.reasons.join("\n")).toContain("escalated to my manager");
  });

  it("never sets what the creator set", () => {
    const plan = decideTriage(ticket({ title: "VPN down for everyone", defaulted: [], impact: 3, urgency: 2, priority: 4, category: "facilities", assignedTo: "01jothr0000000000000000000" }), context());

    expect(plan.set).toEqual({});
    expect(plan.priority).toBe(4);
  });

  it("takes department words as impact 2 and slowness as urgency 2; nothing said: 3", () => {
    expect(decideTriage(ticket({ title: "Printer slow for the finance department" }), context()).set).toMatchObject({ impact: 2, urgency: 2, category: "hardware" });
    expect(decideTriage(ticket({ title: "Question about my desk" }), context()).set).toMatchObject({ impact: 3, urgency: 3 });
    expect(decideTriage(ticket({ title: "Question about my desk" }), context()).set.category).toBeUndefined();
  });

  it("finds older open tickets of the same type with similar titles as duplicates, most similar first, at most 3", () => {
    const older = [ticket({ title: "Floor 3 printer queue jammed" }), ticket({ title: "printer queue jammed floor 3 again" }), ticket({ title: "Password reset" })];
    const closed = ticket({ title: "Floor 3 printer queue jammed", state: "closed" });
    const request = ticket({ title: "Floor 3 printer queue jammed", type: "service_request" });
    const fresh = ticket({ title: "Printer queue jammed on floor 3" });
    const newer = ticket({ title: "Printer queue jammed on floor 3" });

    const plan = decideTriage(fresh, context([newer, fresh, closed, request, ...older]));

    expect(plan.duplicates.map((d) => d.id)).toEqual([older[0]!.id, older[1]!.id]);
  });

  it("links an incident to a matching open problem, known errors first", () => {
    const problem = ticket({ type: "problem", title: "VPN gateway certificate expired", knownError: false });
    const knownError = ticket({ type: "problem", title: "VPN gateway drops sessions", knownError: true, workaround: "reconnect with the backup profile" });

    const plan = decideTriage(ticket({ title: "VPN gateway drops my sessions" }), context([], [problem, knownError]));

    expect(plan.problem).toMatchObject({ id: knownError.id, knownError: true });
  });
});

describe("helpers", () => {
  it("tokenizes without stopwords and measures overlap", () => {
    expect([...tokens("The VPN is DOWN for all of us!")]).toEqual(["vpn", "down", "us"]);
    expect(similarity(tokens("printer jammed"), tokens("jammed printer"))).toEqual({ score: 1, shared: 2 });
  });

  it("picks the oldest active agent of the type's ITSM role", () => {
    const agents = [
      { id: "b", roleId: "incident-manager", status: "active" },
      { id: "a", roleId: "incident-manager", status: "paused" },
      { id: "c", roleId: "incident-manager", status: "active" },
      { id: "0", roleId: "change-manager", status: "active" },
    ] as AgentRecord[];
    expect(triageAgent("incident", agents)?.id).toBe("b");
    expect(triageAgent("problem", agents)).toBeUndefined();
  });
});

describe("approvalRuleFor", () => {
  const role = (approvalRequired?: string[]) => ({ id: "r", ...(approvalRequired ? { approvalRequired } : {}) });
  it("matches a tool name, or a transition to the named state only", () => {
    expect(approvalRuleFor({ name: "escalate", args: {}, role: role(["escalate"]) })).toBe("escalate");
    expect(approvalRuleFor({ name: "transition_ticket", args: { to: "scheduled" }, role: role(["transition_ticket:scheduled"]) })).toBe("transition_ticket:scheduled");
    expect(approvalRuleFor({ name: "transition_ticket", args: { to: "assess" }, role: role(["transition_ticket:scheduled"]) })).toBeUndefined();
    expect(approvalRuleFor({ name: "escalate", args: {}, role: role() })).toBeUndefined();
  });
});
