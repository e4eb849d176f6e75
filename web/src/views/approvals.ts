import { useState } from "preact/hooks";
import type { ApprovalView } from "../../../core/approvals/approval.schema";
import { Badge, Empty, ErrorNote, Loading, Notice, PageHeader } from "../components/ui";
import { api, describeError, type Page } from "../lib/client";
import { dateTime } from "../lib/format";
import { html } from "../lib/html";
import { useAction, useResource } from "../lib/hooks";

const value = (e: Event) => (e.target as HTMLInputElement).value;
const STATUS_TONE: Record<string, "warn" | "good" | "bad" | "neutral"> = { pending: "warn", approved: "good", rejected: "bad", expired: "neutral" };
/** Approvals per list: pending ones all fit one page in practice; decided ones show the latest. */
const PAGE = 50;

/** Approve, or reject with a reason (the reason is required: the agent is told it). */
function Decide({ approval, onDecided }: { approval: ApprovalView; onDecided: (a: ApprovalView, text: string) => void }) {
  const [rejecting, setRejecting] = useState(false);
  const [reason, setReason] = useState("");
  const decide = useAction(async (verdict: "approve" | "reject") => {
    const decided = await api<ApprovalView>(`/approvals/${approval.id}/${verdict}`, { method: "POST", body: verdict === "reject" ? { reason } : {} });
    const ran = decided.outcome ? (decided.outcome.ok ? " The action ran." : " The action ran but was refused; see its outcome.") : "";
    onDecided(decided, verdict === "approve" ? `Approved.${ran}` : "Rejected: nothing ran, and the agent was told why.");
  });
  const id = `reason-${approval.id}`;
  return html`<div class="status-cell">
    ${rejecting
      ? html`<form class="inline-form" onSubmit=${(e: Event) => (e.preventDefault(), void decide.run("reject"))}>
          <label for=${id}>Reason</label>
          <input id=${id} required maxlength="2000" value=${reason} onInput=${(e: Event) => setReason(value(e))} />
          <button type="submit" class="danger small" disabled=${decide.busy || !reason.trim()}>Reject</button>
          <button type="button" class="secondary small" onClick=${() => setRejecting(false)}>Cancel</button>
        </form>`
      : html`<button type="button" class="small" disabled=${decide.busy} aria-label=${`Approve: ${approval.summary}`} onClick=${() => void decide.run("approve")}>Approve</button>
          <button type="button" class="secondary small" disabled=${decide.busy} aria-label=${`Reject: ${approval.summary}`} onClick=${() => setRejecting(true)}>Reject…</button>`}
    ${decide.error ? html`<span class="form-error" role="alert">${describeError(decide.error)}</span>` : null}
  </div>`;
}

function Outcome({ approval }: { approval: ApprovalView }) {
  if (approval.status === "rejected") return html`<span>${approval.reason}</span>`;
  if (!approval.outcome) return html`<span class="muted">—</span>`;
  const result = (approval.outcome.result ?? {}) as { number?: string; state?: string; error?: { message?: string } };
  // A ticket tool's result says where the ticket is now; a refusal says why; anything else is shown as data.
  if (!approval.outcome.ok) return html`<span>Refused: ${result.error?.message ?? "the tool refused the call"}</span>`;
  if (result.number && result.state) return html`<span>Ran: ${result.number} is now ${result.state}</span>`;
  const text = JSON.stringify(approval.outcome.result);
  return html`<span class="break">Ran: <code>${text.length > 120 ? `${text.slice(0, 119)}…` : text}</code></span>`;
}

/** Agents' tool calls waiting for a person (pending), with Approve / Reject, and the decided ones. */
export default function ApprovalsView() {
  const pending = useResource((signal) => api<Page<ApprovalView>>("/approvals", { query: { status: "pending", limit: PAGE }, signal }), []);
  const all = useResource((signal) => api<Page<ApprovalView>>("/approvals", { query: { limit: PAGE }, signal }), []);
  const [notice, setNotice] = useState<string | null>(null);
  const decided = all.data?.items.filter((a) => a.status !== "pending");
  const reload = () => (pending.reload(), all.reload());
  const error = pending.error ?? all.error;
  return html`<div class="view">
    <${PageHeader} title="Approvals">
      <button type="button" class="secondary" onClick=${reload}>Refresh</button>
    <//>
    <p class="muted">Agents ask before actions their role marks as needing approval (a change manager scheduling a change, a custom role's listed tools). Approving runs the action as the agent; rejecting runs nothing. Either way the agent gets a message.</p>
    <${Notice} message=${notice} />
    ${error ? html`<${ErrorNote} error=${error} retry=${reload} title="The approvals could not be loaded." />` : null}
    <section aria-labelledby="pending-title">
      <h2 id="pending-title">Waiting for a decision</h2>
      ${!pending.data && pending.loading ? html`<${Loading} label="Loading approvals…" />` : null}
      ${pending.data && pending.data.items.length === 0 ? html`<${Empty}>Nothing waits for approval.<//>` : null}
      ${pending.data && pending.data.items.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Pending approvals">
            <table class="table">
              <caption class="visually-hidden">Approval requests waiting for a decision</caption>
              <thead><tr><th scope="col">Requested</th><th scope="col">Agent</th><th scope="col">Action</th><th scope="col">Expires</th><th scope="col">Decision</th></tr></thead>
              <tbody>
                ${pending.data.items.map(
                  (a) => html`<tr key=${a.id}>
                    <td class="nowrap">${dateTime(a.createdAt)}</td>
                    <td>${a.requestedByName}</td>
                    <td>${a.summary}</td>
                    <td class="nowrap">${dateTime(a.expiresAt)}</td>
                    <td><${Decide} approval=${a} onDecided=${(_: ApprovalView, text: string) => (setNotice(text), reload())} /></td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null}
    </section>
    <section aria-labelledby="decided-title">
      <h2 id="decided-title">Decided</h2>
      ${decided && decided.length === 0 ? html`<${Empty}>No decisions yet.<//>` : null}
      ${decided && decided.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Decided approvals">
            <table class="table">
              <caption class="visually-hidden">Decided and expired approval requests</caption>
              <thead><tr><th scope="col">Decided</th><th scope="col">Agent</th><th scope="col">Action</th><th scope="col">Status</th><th scope="col">By</th><th scope="col">Outcome or reason</th></tr></thead>
              <tbody>
                ${decided.map(
                  (a) => html`<tr key=${a.id}>
                    <td class="nowrap">${dateTime(a.decidedAt ?? a.expiresAt)}</td>
                    <td>${a.requestedByName}</td>
                    <td>${a.summary}</td>
                    <td><${Badge} tone=${STATUS_TONE[a.status] ?? "neutral"}>${a.status}<//></td>
                    <td>${a.decidedByName ?? "—"}</td>
                    <td><${Outcome} approval=${a} /></td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null}
    </section>
  </div>`;
}
