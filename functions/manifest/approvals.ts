import { ApprovalFilters, ApprovalRequest, ApproveBody, RejectBody } from "../../core/approvals/approval.schema";
import { httpRoute } from "../manifest.types";
import { IdParams, Page, PageQuery } from "./common";

// Decisions run the deferred tool call (tickets, messages) and publish events to WebSocket subscribers.
const DECIDE = ["table:read", "table:write", "connections:manage"] as const;

/**
 * Approvals (core/approvals): agents' tool calls waiting for a person. Part of the agents domain
 * (functions/manifest/agents.ts spreads them in), so they deploy and are monitored with it.
 */
export const approvalRoutes = {
  listApprovals: httpRoute({
    method: "GET",
    path: "/api/v1/approvals",
    handler: "functions/http/approvals.list",
    auth: "key",
    summary: "Approval requests, newest first, by status (pending, approved, rejected, expired); a page can be short and still have a cursor",
    tags: ["agents"],
    query: PageQuery.extend(ApprovalFilters.shape),
    response: { status: 200, description: "A page of approval requests", schema: Page(ApprovalRequest, "ApprovalPage") },
    permissions: ["table:read"],
  }),
  getApproval: httpRoute({
    method: "GET",
    path: "/api/v1/approvals/{id}",
    handler: "functions/http/approvals.get",
    auth: "key",
    summary: "An approval request",
    tags: ["agents"],
    params: IdParams,
    response: { status: 200, description: "The approval request", schema: ApprovalRequest },
    permissions: ["table:read"],
  }),
  approveApproval: httpRoute({
    method: "POST",
    path: "/api/v1/approvals/{id}/approve",
    handler: "functions/http/approvals.approve",
    auth: "key",
    summary: "Approve a pending request: the agent's deferred tool call runs as the agent, its outcome is stored, and the agent is told by message",
    tags: ["agents"],
    params: IdParams,
    body: ApproveBody,
    response: { status: 200, description: "The decided request, with the call's outcome", schema: ApprovalRequest },
    errors: [{ status: 409, description: "Already decided (`approval_decided`) or expired (`approval_expired`)" }],
    permissions: [...DECIDE],
  }),
  rejectApproval: httpRoute({
    method: "POST",
    path: "/api/v1/approvals/{id}/reject",
    handler: "functions/http/approvals.reject",
    auth: "key",
    summary: "Reject a pending request with a reason: nothing runs, and the agent is told why",
    tags: ["agents"],
    params: IdParams,
    body: RejectBody,
    response: { status: 200, description: "The decided request", schema: ApprovalRequest },
    errors: [{ status: 409, description: "Already decided (`approval_decided`) or expired (`approval_expired`)" }],
    permissions: [...DECIDE],
  }),
} as const;

export type ApprovalRoutes = typeof approvalRoutes;
