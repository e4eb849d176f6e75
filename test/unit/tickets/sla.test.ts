import { describe, expect, it } from "vitest";
import { SLA_TARGETS, clocksForState, retarget, slaView, startClocks, unannouncedBreaches } from "../../../core/tickets/sla";
import { TIERS } from "../../../core/tenants/tiers";

const T0 = new Date("2026-03-10T09:00:00.000Z");
const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

describe("SLA targets", () => {
  it("are tighter for higher tiers and for higher priorities", () => {
    for (const priority of [1, 2, 3, 4, 5] as const) {
      const [basic, professional, enterprise] = TIERS.map((tier) => SLA_TARGETS[tier][priority]);
      expect(professional!.responseMinutes).toBeLessThan(basic!.responseMinutes);
      expect(enterprise!.responseMinutes).toBeLessThan(professional!.responseMinutes);
      expect(professional!.resolutionMinutes).toBeLessThan(basic!.resolutionMinutes);
      expect(enterprise!.resolutionMinutes).toBeLessThan(professional!.resolutionMinutes);
    }
    for (const tier of TIERS) {
      for (const priority of [1, 2, 3, 4] as const) {
        expect(SLA_TARGETS[tier][priority].resolutionMinutes).toBeLessThan(SLA_TARGETS[tier][(priority + 1) as 2 | 3 | 4 | 5].resolutionMinutes);
      }
    }
  });
});

describe("SLA clocks", () => {
  it("apply to incidents and service requests only", () => {
    expect(startClocks("incident", 1, "basic", T0).resolution).not.toBeNull();
    expect(startClocks("service_request", 3, "basic", T0).response).not.toBeNull();
    expect(startClocks("problem", 1, "basic", T0)).toEqual({ response: null, resolution: null });
    expect(startClocks("change", 1, "basic", T0)).toEqual({ response: null, resolution: null });
  });

  it("count time to breach down and flag the breach strictly after the target", () => {
    const clocks = startClocks("incident", 1, "basic", T0); // response 60 min, resolution 480 min

    const before = slaView(clocks, at(60));
    const after = slaView(clocks, at(61));

    expect(before.response).toMatchObject({ status: "running", elapsedSeconds: 3600, remainingSeconds: 0, breached: false, percent: 100 });
    expect(before.timeToBreachSeconds).toBe(0);
    expect(after.response).toMatchObject({ breached: true, remainingSeconds: -60 });
    expect(after.breached).toBe(true);
    expect(after.resolution?.dueAt).toBe(at(480).toISOString());
  });

  it("stop the response clock when the ticket leaves new, for good", () => {
    const started = startClocks("incident", 2, "basic", T0);

    const picked = clocksForState(started, "in_progress", at(30));
    const held = clocksForState(picked, "on_hold", at(40));
    const view = slaView(held, at(1000));

    expect(view.response).toMatchObject({ status: "stopped", elapsedSeconds: 1800, breached: false, dueAt: null });
  });

  it("pause the resolution clock while on hold and resume it after", () => {
    const started = clocksForState(startClocks("incident", 1, "basic", T0), "in_progress", at(0));

    const held = clocksForState(started, "on_hold", at(100));
    const duringHold = slaView(held, at(900));
    const resumed = clocksForState(held, "in_progress", at(900));
    const later = slaView(resumed, at(1000));

    expect(duringHold.resolution).toMatchObject({ status: "paused", elapsedSeconds: 6000, breached: false, dueAt: null });
    expect(duringHold.timeToBreachSeconds).toBeNull();
    expect(later.resolution).toMatchObject({ status: "running", elapsedSeconds: 200 * 60, remainingSeconds: 280 * 60 });
  });

  it("stop at resolution and resume on reopening", () => {
    const working = clocksForState(startClocks("incident", 3, "basic", T0), "in_progress", at(0));

    const resolved = clocksForState(working, "resolved", at(60));
    const reopened = clocksForState(resolved, "in_progress", at(600));

    expect(slaView(resolved, at(600)).resolution).toMatchObject({ status: "stopped", elapsedSeconds: 3600 });
    expect(slaView(reopened, at(660)).resolution).toMatchObject({ status: "running", elapsedSeconds: 7200 });
  });

  it("mark running clocks past 75% as at risk", () => {
    const clocks = startClocks("incident", 1, "enterprise", T0); // response 15 min

    expect(slaView(clocks, at(11)).atRisk).toBe(false);
    expect(slaView(clocks, at(12)).atRisk).toBe(true);
    expect(slaView(clocks, at(16)).atRisk).toBe(false); // breached, no longer "at risk"
  });

  it("keep elapsed time against a new target when the priority changes", () => {
    const clocks = startClocks("incident", 4, "basic", T0); // resolution 120 h

    const raised = retarget(clocks, 1, "basic"); // resolution 8 h

    expect(slaView(clocks, at(600)).resolution?.breached).toBe(false);
    expect(slaView(raised, at(600)).resolution).toMatchObject({ targetMinutes: 480, breached: true });
  });

  it("list breaches not yet announced", () => {
    const clocks = startClocks("incident", 1, "basic", T0);

    expect(unannouncedBreaches(clocks, at(30), [])).toEqual([]);
    expect(unannouncedBreaches(clocks, at(61), [])).toEqual(["response"]);
    expect(unannouncedBreaches(clocks, at(481), ["response"])).toEqual(["resolution"]);
  });
});
