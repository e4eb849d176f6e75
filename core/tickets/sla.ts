import type { Tier } from "../tenants/tiers";
import type { Priority, SlaClockView, TicketSlaView, TicketState, TicketType } from "./ticket.schema";

/**
 * Service level agreements of tickets: a response clock and a resolution clock per ticket, with
 * targets per priority that are tighter for higher tiers. Clocks run on a 24x7 calendar (no business
 * hours), pause while a ticket is on hold, and everything shown (elapsed, time to breach, breached,
 * at risk) is computed on read from the stored clock state and the injected clock: nothing needs a
 * scheduler to stay correct.
 *
 * Incidents and service requests carry SLAs (as in ITIL practice); problems and changes do not (their
 * commitments are planned dates, not response times), so their `sla` clocks are null.
 */

export interface SlaTarget {
  responseMinutes: number;
  resolutionMinutes: number;
}

const h = 60;
/** Documented in the README ("Tickets and SLAs"): keep the two in step. */
export const SLA_TARGETS: Record<Tier, Record<Priority, SlaTarget>> = {
  basic: {
    1: { responseMinutes: 1 * h, resolutionMinutes: 8 * h },
    2: { responseMinutes: 4 * h, resolutionMinutes: 24 * h },
    3: { responseMinutes: 8 * h, resolutionMinutes: 72 * h },
    4: { responseMinutes: 24 * h, resolutionMinutes: 120 * h },
    5: { responseMinutes: 48 * h, resolutionMinutes: 240 * h },
  },
  professional: {
    1: { responseMinutes: 30, resolutionMinutes: 4 * h },
    2: { responseMinutes: 1 * h, resolutionMinutes: 8 * h },
    3: { responseMinutes: 4 * h, resolutionMinutes: 48 * h },
    4: { responseMinutes: 8 * h, resolutionMinutes: 96 * h },
    5: { responseMinutes: 24 * h, resolutionMinutes: 168 * h },
  },
  enterprise: {
    1: { responseMinutes: 15, resolutionMinutes: 2 * h },
    2: { responseMinutes: 30, resolutionMinutes: 4 * h },
    3: { responseMinutes: 2 * h, resolutionMinutes: 24 * h },
    4: { responseMinutes: 4 * h, resolutionMinutes: 72 * h },
    5: { responseMinutes: 8 * h, resolutionMinutes: 120 * h },
  },
};

/** A running clock past this share of its target is "at risk" (ServiceNow's default 75% warning). */
export const AT_RISK_PERCENT = 75;

export type ClockName = "response" | "resolution";
/**
 * A mark recorded once per ticket (TicketRecord.breachAnnounced): the clock's name for its breach
 * announced, `at_risk:` and `escalated:` for what the SLA sweep did about it.
 */
export type SlaMark = ClockName | `at_risk:${ClockName}` | `escalated:${ClockName}`;

export type ClockStatus = "running" | "paused" | "stopped";

/** A clock as stored: time accumulated up to `since`, plus (while running) the time since `since`. */
export interface SlaClockRecord {
  targetMinutes: number;
  status: ClockStatus;
  elapsedMs: number;
  /** When it last started running; null unless running. */
  since: string | null;
}

export interface SlaClocks {
  response: SlaClockRecord | null;
  resolution: SlaClockRecord | null;
}

export const hasSla = (type: TicketType): boolean => type === "incident" || type === "service_request";

/** What the resolution clock does in each state: runs while work is owed, pauses on hold, stops at the end. */
function resolutionStatus(state: TicketState): ClockStatus {
  if (state === "on_hold") return "paused";
  if (state === "resolved" || state === "closed" || state === "canceled" || state === "rejected") return "stopped";
  return "running";
}

/** The response clock runs until the ticket first leaves `new` (it has been picked up), then stops for good. */
const responseStatus = (state: TicketState): ClockStatus => (state === "new" ? "running" : "stopped");

/** Both clocks of a new ticket, started now. */
export function startClocks(type: TicketType, priority: Priority, tier: Tier, now: Date): SlaClocks {
  if (!hasSla(type)) return { response: null, resolution: null };
  const target = SLA_TARGETS[tier][priority];
  const start = (targetMinutes: number): SlaClockRecord => ({ targetMinutes, status: "running", elapsedMs: 0, since: now.toISOString() });
  return { response: start(target.responseMinutes), resolution: start(target.resolutionMinutes) };
}

const elapsedOf = (clock: SlaClockRecord, now: Date): number =>
  clock.elapsedMs + (clock.status === "running" && clock.since ? Math.max(0, now.getTime() - Date.parse(clock.since)) : 0);

function moveTo(clock: SlaClockRecord, status: ClockStatus, now: Date): SlaClockRecord {
  if (clock.status === status) return clock;
  return { ...clock, status, elapsedMs: elapsedOf(clock, now), since: status === "running" ? now.toISOString() : null };
}

/**
 * The clocks after the ticket moved to `state` at `now`. The response clock never restarts once
 * stopped (a reopened incident was responded to already); the resolution clock resumes on reopening.
 */
export function clocksForState(clocks: SlaClocks, state: TicketState, now: Date): SlaClocks {
  return {
    response: clocks.response && clocks.response.status !== "stopped" ? moveTo(clocks.response, responseStatus(state), now) : clocks.response,
    resolution: clocks.resolution ? moveTo(clocks.resolution, resolutionStatus(state), now) : null,
  };
}

/**
 * New targets after a priority change. Elapsed time is kept: the clock continues against the new
 * target (so raising the priority of an old ticket can breach it at once, as it should).
 */
export function retarget(clocks: SlaClocks, priority: Priority, tier: Tier): SlaClocks {
  const target = SLA_TARGETS[tier][priority];
  return {
    response: clocks.response && { ...clocks.response, targetMinutes: target.responseMinutes },
    resolution: clocks.resolution && { ...clocks.resolution, targetMinutes: target.resolutionMinutes },
  };
}

export function clockView(clock: SlaClockRecord, now: Date): SlaClockView {
  const elapsedMs = elapsedOf(clock, now);
  const targetMs = clock.targetMinutes * 60_000;
  return {
    targetMinutes: clock.targetMinutes,
    status: clock.status,
    elapsedSeconds: Math.floor(elapsedMs / 1000),
    remainingSeconds: Math.ceil((targetMs - elapsedMs) / 1000),
    dueAt: clock.status === "running" ? new Date(now.getTime() + targetMs - elapsedMs).toISOString() : null,
    percent: Math.round((elapsedMs / targetMs) * 1000) / 10,
    // Strictly past the target: a ticket handled at the last second met its SLA.
    breached: elapsedMs > targetMs,
  };
}

/** The SLA as shown on a ticket at `now`. */
export function slaView(clocks: SlaClocks, now: Date): TicketSlaView {
  const response = clocks.response ? clockView(clocks.response, now) : null;
  const resolution = clocks.resolution ? clockView(clocks.resolution, now) : null;
  const views = [response, resolution].filter((v): v is SlaClockView => v !== null);
  const running = views.filter((v) => v.status === "running");
  return {
    response,
    resolution,
    breached: views.some((v) => v.breached),
    atRisk: running.some((v) => !v.breached && v.percent >= AT_RISK_PERCENT),
    timeToBreachSeconds: running.length ? Math.min(...running.map((v) => v.remainingSeconds)) : null,
  };
}

/** Clocks breached at `now` that have not been announced yet. */
export function unannouncedBreaches(clocks: SlaClocks, now: Date, announced: readonly string[]): ClockName[] {
  return (["response", "resolution"] as const).filter((name) => {
    const clock = clocks[name];
    return clock !== null && !announced.includes(name) && clockView(clock, now).breached;
  });
}
