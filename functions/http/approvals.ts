import { http } from "../lib/http";
import { approvals } from "../lib/services/approvals";
import { approvalRoutes as routes } from "../manifest/approvals";

export const list = http(routes.listApprovals, ({ principal, query: { limit, cursor, status } }) =>
  approvals().list(principal, status ? { status } : {}, { limit: limit ?? 25, ...(cursor ? { cursor } : {}) }),
);
export const get = http(routes.getApproval, ({ principal, params }) => approvals().get(principal, params.id));
export const approve = http(routes.approveApproval, ({ principal, params, body }) => approvals().approve(principal, params.id, body.comment));
export const reject = http(routes.rejectApproval, ({ principal, params, body }) => approvals().reject(principal, params.id, body.reason));
