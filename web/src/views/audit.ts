import { useState } from "preact/hooks";
import type { AuditVerification } from "../../../core/audit/audit.schema";
import type { Organization } from "../../../core/tenants/organization.schema";
import { Badge, Empty, ErrorNote, Loading, PageHeader } from "../components/ui";
import { api, apiText, describeError, type Page } from "../lib/client";
import { count, dateTime, label, shortHash } from "../lib/format";
import { html } from "../lib/html";
import { useAction, useApp, useResource } from "../lib/hooks";

interface Entry {
  seq: number;
  time: string;
  action: "insert" | "modify" | "remove";
  entity: { type: string; id: string };
  actor: string | null;
  summary: { fields: string[]; redacted: string[] };
  hash: string;
  prevHash: string;
}

/** A page of entries, with the display names of their actors beside them (the entries stay as chained). */
type EntryPage = Page<Entry> & { actorNames?: Record<string, string> };

interface Checkpoint {
  seq: number;
  hash: string;
  time: string;
  keyId: string;
  signature: string;
}

const ACTION_TONE = { insert: "good", modify: "info", remove: "bad" } as const;

function Verdict({ result }: { result: AuditVerification }) {
  return html`<div class=${`verdict ${result.valid ? "valid" : "invalid"}`} role="status">
    <p class="verdict-title">${result.valid ? "✓ The chain is intact" : "✗ The chain is broken"}</p>
    ${result.valid
      ? html`<p>${count(result.length)} entries verified; head <code>${shortHash(result.head)}</code>.</p>`
      : html`<p>The log cannot be trusted from entry <strong>#${result.firstInvalidSeq}</strong> on: ${result.message ?? result.reason}. ${count(result.length)} entries before it verified.</p>`}
    <p>Checkpoints: ${result.checkpoints.verified} of ${result.checkpoints.total} match the chain, ${result.checkpoints.signaturesVerified} signatures verified${result.checkpoints.lastSeq ? ` (last at #${result.checkpoints.lastSeq})` : ""}.</p>
    ${result.unsignedFromSeq ? html`<p class="muted">Entries from #${result.unsignedFromSeq} on are protected by the hash chain only until the next signed checkpoint.</p>` : null}
    ${result.coverage.complete ? null : html`<p class="coverage-warning"><strong>⚠ Coverage incomplete:</strong> ${coverageLine(result.coverage)}</p>`}
  </div>`;
}

/** One line on what is missing from the log (the chain's integrity is a separate question). */
function coverageLine(coverage: AuditVerification["coverage"]): string {
  const parts: string[] = [];
  if (coverage.pending || coverage.pendingMore) {
    parts.push(`${count(coverage.pending)}${coverage.pendingMore ? "+" : ""} change${coverage.pending === 1 ? " is" : "s are"} not in the chain yet${coverage.pendingSince ? ` (since ${dateTime(coverage.pendingSince)})` : ""}; they are retried automatically.`);
  }
  if (coverage.lost.length) {
    parts.push(`${coverage.lost.length} stream range${coverage.lost.length === 1 ? " was" : "s were"} lost beyond retention and may have held changes of this organization.`);
  }
  return parts.join(" ");
}

function AuditLog({ orgId }: { orgId: string | undefined }) {
  const scope = { orgId };
  const entries = useResource((signal) => api<EntryPage>("/audit/entries", { query: { ...scope, limit: 25 }, signal }), [orgId]);
  const checkpoints = useResource((signal) => api<Page<Checkpoint>>("/audit/checkpoints", { query: { ...scope, limit: 10 }, signal }), [orgId]);
  const [older, setOlder] = useState<{ items: Entry[]; cursor?: string; actorNames: Record<string, string> } | null>(null);
  const [result, setResult] = useState<AuditVerification | null>(null);
  const verify = useAction(async () => {
    setResult(null);
    setResult(await api<AuditVerification>("/audit/verify", { query: scope }));
  });
  const more = useAction(async () => {
    const page = await api<EntryPage>("/audit/entries", { query: { ...scope, limit: 25, cursor: older?.cursor ?? entries.data?.cursor } });
    setOlder({ items: [...(older?.items ?? []), ...page.items], cursor: page.cursor, actorNames: { ...older?.actorNames, ...page.actorNames } });
  });
  const download = useAction(async () => {
    const text = await apiText("/audit/export", { query: scope });
    const url = URL.createObjectURL(new Blob([text], { type: "application/x-ndjson" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = `audit-${orgId ?? "organization"}.jsonl`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  const list = entries.data ? [...entries.data.items, ...(older?.items ?? [])] : undefined;
  const cursor = older ? older.cursor : entries.data?.cursor;
  const names: Record<string, string> = { ...entries.data?.actorNames, ...older?.actorNames };
  return html`
    <section class="card" aria-labelledby="verify-title">
      <div class="card-head">
        <h2 id="verify-title">Verify the chain</h2>
        <div class="row">
          <button type="button" onClick=${() => void verify.run()} disabled=${verify.busy}>${verify.busy ? "Verifying…" : "Verify chain"}</button>
          <button type="button" class="secondary" onClick=${() => void download.run()} disabled=${download.busy}>${download.busy ? "Exporting…" : "Export (JSON Lines)"}</button>
        </div>
      </div>
      <p class="muted">Recomputes every entry's SHA-256 link to the one before it and checks the Ed25519-signed checkpoints. An export can be checked independently with <code>npm run audit:verify</code>.</p>
      ${verify.busy ? html`<${Loading} label="Verifying the chain…" />` : null}
      ${verify.error ? html`<${ErrorNote} error=${verify.error} title="Verification failed to run." />` : null}
      ${download.error ? html`<${ErrorNote} error=${download.error} title="The export failed." />` : null}
      ${result ? html`<${Verdict} result=${result} />` : null}
    </section>
    <section class="card" aria-labelledby="entries-title">
      <h2 id="entries-title">Entries <span class="muted">newest first</span></h2>
      ${entries.error ? html`<${ErrorNote} error=${entries.error} retry=${entries.reload} title="The entries could not be loaded." />` : null}
      ${!list && entries.loading ? html`<${Loading} label="Loading entries…" />` : null}
      ${list && list.length === 0 ? html`<${Empty}>No audit entries yet: every change to the organization's data will appear here.<//>` : null}
      ${list && list.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Audit entries">
            <table class="table">
              <caption class="visually-hidden">Audit entries</caption>
              <thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">Action</th><th scope="col">Entity</th><th scope="col">Actor</th><th scope="col">Fields</th><th scope="col">Hash</th></tr></thead>
              <tbody>
                ${list.map(
                  (e) => html`<tr key=${e.seq}>
                    <td>${e.seq}</td>
                    <td class="nowrap">${dateTime(e.time)}</td>
                    <td><${Badge} tone=${ACTION_TONE[e.action]}>${e.action}<//></td>
                    <td>${label(e.entity.type)} <span class="muted mono">${e.entity.id.length > 16 ? `${e.entity.id.slice(0, 14)}…` : e.entity.id}</span></td>
                    <td>${e.actor ? html`<span class="actor" title=${e.actor}>${names[e.actor] ?? e.actor}</span>` : html`<span class="muted">system</span>`}</td>
                    <td class="fields">${e.summary.fields.slice(0, 6).join(", ")}${e.summary.fields.length > 6 ? ` +${e.summary.fields.length - 6}` : ""}</td>
                    <td class="mono" title=${e.hash}>${shortHash(e.hash)}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
          </div>`
        : null}
      ${more.error ? html`<p class="form-error" role="alert">${describeError(more.error)}</p>` : null}
      ${cursor ? html`<p><button type="button" class="secondary" disabled=${more.busy} onClick=${() => void more.run()}>${more.busy ? "Loading…" : "Older entries"}</button></p>` : null}
    </section>
    <section class="card" aria-labelledby="checkpoints-title">
      <h2 id="checkpoints-title">Signed checkpoints</h2>
      ${checkpoints.error ? html`<${ErrorNote} error=${checkpoints.error} retry=${checkpoints.reload} title="The checkpoints could not be loaded." />` : null}
      ${!checkpoints.data && checkpoints.loading ? html`<${Loading} label="Loading checkpoints…" />` : null}
      ${checkpoints.data && checkpoints.data.items.length === 0 ? html`<${Empty}>No checkpoint yet: one is signed after the first entries, then every 100 entries or 5 minutes.<//>` : null}
      ${checkpoints.data?.items.length
        ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Checkpoints">
            <table class="table">
              <caption class="visually-hidden">Signed checkpoints</caption>
              <thead><tr><th scope="col">At entry</th><th scope="col">Signed</th><th scope="col">Head hash</th><th scope="col">Key</th></tr></thead>
              <tbody>${checkpoints.data.items.map((c) => html`<tr key=${c.seq}><td>#${c.seq}</td><td>${dateTime(c.time)}</td><td class="mono" title=${c.hash}>${shortHash(c.hash)}</td><td class="mono">${c.keyId}</td></tr>`)}</tbody>
            </table>
          </div>`
        : null}
    </section>
  `;
}

/** Operators pick the organization whose log to read (`?orgId=`); an organization key reads its own. */
function OrgPicker({ value, onChange }: { value: string; onChange: (id: string) => void }) {
  const orgs = useResource((signal) => api<Page<Organization>>("/organizations", { query: { limit: 100 }, signal }), []);
  if (orgs.error) return html`<${ErrorNote} error=${orgs.error} retry=${orgs.reload} />`;
  if (!orgs.data) return html`<${Loading} label="Loading organizations…" />`;
  if (!orgs.data.items.length) return html`<${Empty}>No organizations yet.<//>`;
  return html`<div class="toolbar">
    <label for="audit-org">Organization</label>
    <select id="audit-org" value=${value} onChange=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
      <option value="" disabled>Choose an organization</option>
      ${orgs.data.items.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
    </select>
  </div>`;
}

export default function AuditView() {
  const { session } = useApp();
  const [orgId, setOrgId] = useState("");
  return html`<div class="view">
    <${PageHeader} title="Audit log" />
    ${session.role === "operator" ? html`<${OrgPicker} value=${orgId} onChange=${setOrgId} />` : null}
    ${session.role === "org" ? html`<${AuditLog} orgId=${undefined} />` : orgId ? html`<${AuditLog} key=${orgId} orgId=${orgId} />` : null}
  </div>`;
}
