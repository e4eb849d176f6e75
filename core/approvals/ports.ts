import type { Page, PageRequest } from "../tenants/ports";

/** An approval request as stored: the status is never `expired` (that is computed from `expiresAt`). */
export interface ApprovalRecord {
  id: string;
  orgId: string;
  kind: "tool_call";
  requestedBy: string;
  requestedByName: string;
  summary: string;
  action: { tool: string; arguments: unknown; rule: string };
  status: "pending" | "approved" | "rejected";
  createdAt: string;
  expiresAt: string;
  decidedBy?: string;
  decidedByName?: string;
  decidedAt?: string;
  reason?: string;
  outcome?: { ok: boolean; result: unknown };
}

export interface ApprovalDecision {
  status: "approved" | "rejected";
  decidedBy: string;
  decidedByName: string;
  decidedAt: string;
  reason?: string;
}

/** Persistence of approval requests (adapter: core/db/approval.repository.ts). */
export interface ApprovalStore {
  create(record: ApprovalRecord): Promise<void>;
  get(orgId: string, id: string): Promise<ApprovalRecord | undefined>;
  /** Newest first; `status` filters at `now` (expired = pending past expiresAt). Pages may be short and still have a cursor. */
  list(orgId: string, filter: { status?: "pending" | "approved" | "rejected" | "expired"; now: string }, page: PageRequest): Promise<Page<ApprovalRecord>>;
  /**
   * Records a decision only while the request is pending and not expired at `decision.decidedAt`:
   * "ok" for the one caller that decided it, "decided" (or "expired") for everyone else.
   */
  decide(orgId: string, id: string, decision: ApprovalDecision): Promise<"ok" | "decided" | "expired" | "missing">;
  /** Stores what the approved call returned (once). */
  recordOutcome(orgId: string, id: string, outcome: { ok: boolean; result: unknown }): Promise<void>;
}
