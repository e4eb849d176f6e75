import { describe, expect, it } from "vitest";
import * as core from "../../core/tickets/ticket.schema";
import * as web from "../../web/src/lib/tickets";

/**
 * The dashboard copies the ticket vocabulary instead of importing core's zod schemas (which would put
 * zod in its bundle): the copies must match the API's.
 */
describe("dashboard ticket vocabulary", () => {
  it("matches core's types, states, hold reasons, codes and priorities", () => {
    expect(web.TICKET_TYPES).toEqual(core.TICKET_TYPES);
    expect(web.TICKET_STATES).toEqual(core.TICKET_STATES);
    expect(web.HOLD_REASONS).toEqual(core.HOLD_REASONS);
    expect(web.INCIDENT_RESOLUTION_CODES).toEqual(core.INCIDENT_RESOLUTION_CODES);
    expect(web.PROBLEM_RESOLUTION_CODES).toEqual(core.PROBLEM_RESOLUTION_CODES);
    expect(web.CHANGE_CLOSE_CODES).toEqual(core.CHANGE_CLOSE_CODES);
    expect(web.CHANGE_TYPES).toEqual(core.CHANGE_TYPES);
    expect(web.CHANGE_RISKS).toEqual(core.CHANGE_RISKS);
    expect(web.PRIORITY_LABELS).toEqual(core.PRIORITY_LABELS);
  });
});
