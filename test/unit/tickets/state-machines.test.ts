import { describe, expect, it } from "vitest";
import {
  allowedTransitions,
  canTransition,
  guardOf,
  isFinal,
  statesOf,
  workflowOf,
  type Workflow,
} from "../../../core/tickets/state-machines";
import { TICKET_STATES, type TicketState } from "../../../core/tickets/ticket.schema";

/** The workflows as the issue and ITIL state them, written out independently of the implementation's tables. */
const EXPECTED: Record<Workflow, Record<string, TicketState[]>> = {
  incident: {
    new: ["in_progress", "canceled"],
    in_progress: ["on_hold", "resolved", "canceled"],
    // ServiceNow resolves straight from On hold.
    on_hold: ["in_progress", "resolved", "canceled"],
    resolved: ["closed", "in_progress"],
    closed: [],
    canceled: [],
  },
  service_request: {
    new: ["approved", "rejected", "canceled"],
    approved: ["fulfilling", "canceled"],
    fulfilling: ["closed", "canceled"],
    closed: [],
    rejected: [],
    canceled: [],
  },
  problem: {
    new: ["assess", "canceled"],
    assess: ["root_cause_analysis", "canceled"],
    root_cause_analysis: ["fix_in_progress", "canceled"],
    fix_in_progress: ["resolved", "canceled"],
    resolved: ["closed"],
    closed: [],
    canceled: [],
  },
  "change:normal": {
    new: ["assess", "canceled"],
    assess: ["authorize", "canceled"],
    authorize: ["scheduled", "new", "canceled"],
    scheduled: ["implement", "canceled"],
    implement: ["review"],
    review: ["closed"],
    closed: [],
    canceled: [],
  },
  "change:standard": {
    new: ["scheduled", "canceled"],
    scheduled: ["implement", "canceled"],
    implement: ["review"],
    review: ["closed"],
    closed: [],
    canceled: [],
  },
  "change:emergency": {
    new: ["authorize", "canceled"],
    authorize: ["scheduled", "new", "canceled"],
    scheduled: ["implement", "canceled"],
    implement: ["review"],
    review: ["closed"],
    closed: [],
    canceled: [],
  },
};

const workflows = Object.keys(EXPECTED) as Workflow[];

describe("ticket state machines", () => {
  it.each(workflows)("%s uses exactly the expected states", (workflow) => {
    expect(new Set(statesOf(workflow))).toEqual(new Set(Object.keys(EXPECTED[workflow])));
  });

  it.each(workflows)("%s allows exactly the expected transitions and refuses every other pair", (workflow) => {
    for (const from of TICKET_STATES) {
      const expected = EXPECTED[workflow][from] ?? [];
      expect([...allowedTransitions(workflow, from)].sort(), `${workflow} from ${from}`).toEqual([...expected].sort());
      for (const to of TICKET_STATES) expect(canTransition(workflow, from, to), `${workflow}: ${from} -> ${to}`).toBe(expected.includes(to));
    }
  });

  it("picks the change workflow by change type, normal by default", () => {
    expect(workflowOf("change")).toBe("change:normal");
    expect(workflowOf("change", "standard")).toBe("change:standard");
    expect(workflowOf("change", "emergency")).toBe("change:emergency");
    expect(workflowOf("incident", "emergency")).toBe("incident");
  });

  it("standard changes skip authorization; emergency changes skip assessment but not authorization", () => {
    expect(canTransition("change:standard", "new", "scheduled")).toBe(true);
    expect(canTransition("change:normal", "new", "scheduled")).toBe(false);
    expect(canTransition("change:emergency", "new", "assess")).toBe(false);
    expect(canTransition("change:emergency", "new", "scheduled")).toBe(false);
    expect(canTransition("change:emergency", "authorize", "scheduled")).toBe(true);
  });

  it("no change can be canceled once implementation started", () => {
    for (const workflow of ["change:normal", "change:standard", "change:emergency"] as const) {
      expect(canTransition(workflow, "implement", "canceled")).toBe(false);
      expect(canTransition(workflow, "review", "canceled")).toBe(false);
    }
  });

  it("names what a transition needs besides being allowed", () => {
    expect(guardOf("incident", "in_progress", "on_hold")).toBe("hold_reason");
    expect(guardOf("incident", "in_progress", "resolved")).toBe("resolution");
    expect(guardOf("incident", "on_hold", "resolved")).toBe("resolution");
    expect(guardOf("service_request", "approved", "on_hold")).toBe("hold_reason");
    expect(guardOf("change:standard", "review", "closed")).toBe("close_code");
    expect(guardOf("change:normal", "scheduled", "closed")).toBeUndefined();
    expect(guardOf("service_request", "new", "rejected")).toBeUndefined();
    expect(guardOf("problem", "fix_in_progress", "resolved")).toBe("resolution");
    expect(guardOf("change:normal", "authorize", "scheduled")).toBe("approval");
    expect(guardOf("change:emergency", "authorize", "new")).toBe("rejection");
    expect(guardOf("change:normal", "review", "closed")).toBe("close_code");
    expect(guardOf("service_request", "fulfilling", "closed")).toBeUndefined();
    expect(guardOf("change:standard", "new", "scheduled")).toBeUndefined();
  });

  it("treats closed, canceled and rejected as final", () => {
    expect(TICKET_STATES.filter(isFinal).sort()).toEqual(["canceled", "closed", "rejected"]);
  });
});
