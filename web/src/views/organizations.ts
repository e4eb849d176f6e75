import { useEffect, useState } from "preact/hooks";
import type { ApiKey, CreatedApiKey } from "../../../core/tenants/api-key.schema";
import type { Organization, OrganizationUsage } from "../../../core/tenants/organization.schema";
import type { RateLimits as Limits, RateLimitSettings } from "../../../core/ratelimit/rate-limit.schema";
import { Badge, Empty, ErrorNote, Loading, Meter, Notice, PageHeader } from "../components/ui";
import { api, describeError, listOrganizations } from "../lib/client";
import { count, dateTime, label, usd } from "../lib/format";
import { html } from "../lib/html";
import { useAction, useApp, useResource } from "../lib/hooks";
import { href, navigate } from "../lib/router";

const TIERS = ["basic", "professional", "enterprise"] as const;
const TIER_INFO: Record<string, string> = { basic: "$49/mo · 10 agents", professional: "$299/mo · 50 agents", enterprise: "$1,499/mo · 500 agents" };
const INDUSTRIES = ["finance", "healthcare", "tech", "retail", "manufacturing", "education", "government", "other"] as const;
const SIZES = ["small", "medium", "large", "enterprise"] as const;
const value = (e: Event) => (e.target as HTMLInputElement).value;

interface Row {
  org: Organization;
  usage: OrganizationUsage | null;
}

async function loadAll(signal: AbortSignal): Promise<Row[]> {
  const orgs = await listOrganizations<Organization>(signal);
  const usages = await Promise.all(
    orgs.map((o) => (o.status === "active" ? api<OrganizationUsage>(`/organizations/${o.id}/usage`, { signal }).catch(() => null) : Promise.resolve(null))),
  );
  return orgs.map((org, i) => ({ org, usage: usages[i] ?? null }));
}

function UsageBars({ usage }: { usage: OrganizationUsage }) {
  return html`<div class="bars">
    <${Meter} label="Agents" used=${usage.agents.used} limit=${usage.agents.limit} format=${count} />
    <${Meter} label="Tickets this month" used=${usage.tickets.used} limit=${usage.tickets.limit} format=${count} />
    <${Meter} label="Model spend" used=${usage.modelSpendUsd.used} limit=${usage.modelSpendUsd.limit} format=${usd} />
  </div>`;
}

function OrgForm({ org, operator, onSaved }: { org?: Organization; operator: boolean; onSaved: (o: Organization) => void }) {
  const [form, setForm] = useState({ name: org?.name ?? "", industry: org?.industry ?? "other", size: org?.size ?? "small", tier: org?.tier ?? "basic", spendLimit: org?.spendLimitUsd != null ? String(org.spendLimitUsd) : "" });
  const prefix = org ? "edit-org" : "new-org";
  const set = (field: keyof typeof form) => (e: Event) => setForm({ ...form, [field]: value(e) });
  const save = useAction(async () => {
    const body: Record<string, unknown> = { name: form.name, industry: form.industry, size: form.size };
    if (operator) body.tier = form.tier;
    if (org) body.spendLimitUsd = form.spendLimit === "" ? null : Number(form.spendLimit);
    onSaved(await api<Organization>(org ? `/organizations/${org.id}` : "/organizations", { method: org ? "PATCH" : "POST", body }));
  });
  return html`<form class="card form" aria-labelledby=${`${prefix}-title`} onSubmit=${(e: Event) => (e.preventDefault(), void save.run())}>
    <h2 id=${`${prefix}-title`}>${org ? "Settings" : "New organization"}</h2>
    <div class="grid2">
      <div class="field"><label for=${`${prefix}-name`}>Name</label><input id=${`${prefix}-name`} required maxlength="120" value=${form.name} onInput=${set("name")} /></div>
      <div class="field"><label for=${`${prefix}-industry`}>Industry</label><select id=${`${prefix}-industry`} value=${form.industry} onChange=${set("industry")}>${INDUSTRIES.map((i) => html`<option value=${i}>${label(i)}</option>`)}</select></div>
      <div class="field"><label for=${`${prefix}-size`}>Size</label><select id=${`${prefix}-size`} value=${form.size} onChange=${set("size")}>${SIZES.map((s) => html`<option value=${s}>${label(s)}</option>`)}</select></div>
      ${org ? html`<div class="field"><label for=${`${prefix}-limit`}>Monthly model spend cap (USD, optional)</label><input id=${`${prefix}-limit`} type="number" min="0" step="0.01" value=${form.spendLimit} onInput=${set("spendLimit")} /></div>` : null}
    </div>
    <fieldset class="tiers" disabled=${!operator}>
      <legend>Tier${operator ? "" : " (only the operator changes it)"}</legend>
      ${TIERS.map(
        (t) => html`<label class=${`tier-option${form.tier === t ? " chosen" : ""}`}>
          <input type="radio" name=${`${prefix}-tier`} value=${t} checked=${form.tier === t} onChange=${set("tier")} />
          <span><strong>${label(t)}</strong><span class="muted">${TIER_INFO[t]}</span></span>
        </label>`,
      )}
    </fieldset>
    ${save.error ? html`<p class="form-error" role="alert">${describeError(save.error)}</p>` : null}
    <button type="submit" disabled=${save.busy || !form.name.trim()}>${save.busy ? "Saving…" : org ? "Save settings" : "Create organization"}</button>
  </form>`;
}

function ApiKeys({ org }: { org: Organization }) {
  const keys = useResource((signal) => api<{ items: ApiKey[] }>(`/organizations/${org.id}/api-keys`, { signal }), [org.id]);
  const [name, setName] = useState("");
  const [budget, setBudget] = useState("");
  const [created, setCreated] = useState<CreatedApiKey | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoking, setRevoking] = useState<string | null>(null);
  const { session } = useApp();
  const create = useAction(async () => {
    const monthlyBudgetUsd = budget.trim() ? Number(budget) : undefined;
    const key = await api<CreatedApiKey>(`/organizations/${org.id}/api-keys`, { method: "POST", body: { name: name.trim() || "default", ...(monthlyBudgetUsd !== undefined ? { monthlyBudgetUsd } : {}) } });
    setCreated(key);
    setCopied(false);
    setName("");
    setBudget("");
    keys.reload();
  });
  const revoke = useAction(async (id: string) => {
    await api(`/organizations/${org.id}/api-keys/${id}`, { method: "DELETE" });
    setRevoking(null);
    keys.reload();
  });
  const items = keys.data?.items;
  return html`<section class="card" aria-labelledby="keys-title">
    <h2 id="keys-title">API keys</h2>
    <form class="row" onSubmit=${(e: Event) => (e.preventDefault(), void create.run())}>
      <label for="key-name" class="visually-hidden">New key name</label>
      <input id="key-name" placeholder="Key name, e.g. ci" maxlength="80" value=${name} onInput=${(e: Event) => setName(value(e))} />
      <label for="key-budget" class="visually-hidden">Monthly budget of the new key in USD (optional)</label>
      <input id="key-budget" class="budget-input" type="number" min="0.01" step="0.01" inputmode="decimal" placeholder="Monthly budget $ (optional)" value=${budget} onInput=${(e: Event) => setBudget(value(e))} />
      <button type="submit" disabled=${create.busy || org.status !== "active"}>${create.busy ? "Creating…" : "Create key"}</button>
    </form>
    ${create.error ? html`<p class="form-error" role="alert">${describeError(create.error)}</p>` : null}
    ${created
      ? html`<div class="secret" role="alert">
          <p><strong>Copy this key now: it is shown only once.</strong> Only its hash is stored.</p>
          <p class="row"><code class="secret-value" data-testid="new-secret">${created.secret}</code>
          <button type="button" class="secondary small" onClick=${() => void navigator.clipboard?.writeText(created.secret).then(() => setCopied(true), () => undefined)}>${copied ? "Copied" : "Copy"}</button>
          <button type="button" class="secondary small" onClick=${() => setCreated(null)}>Done</button></p>
        </div>`
      : null}
    ${keys.error ? html`<${ErrorNote} error=${keys.error} retry=${keys.reload} title="The keys could not be loaded." />` : null}
    ${!items && keys.loading ? html`<${Loading} label="Loading keys…" />` : null}
    ${items && items.length === 0 ? html`<${Empty}>No keys yet.<//>` : null}
    ${items?.length
      ? html`<div class="table-wrap stacking" tabindex="0" role="region" aria-label="API keys"><table class="table stack">
          <caption class="visually-hidden">API keys</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Prefix</th><th scope="col">Created</th><th scope="col">Budget</th><th scope="col">Status</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
          <tbody>${items.map((k) => {
            const mine = session.keyId === k.id;
            return html`<tr key=${k.id}>
              <td data-label="Name">${k.name}${mine ? html` <${Badge} tone="info">this session<//>` : null}</td>
              <td class="mono key-prefix" data-label="Prefix" title=${k.prefix}>${k.prefix}…</td>
              <td class="nowrap" data-label="Created">${dateTime(k.createdAt)}</td>
              <td class="nowrap" data-label="Budget">${k.monthlyBudgetUsd === undefined
                ? html`<span class="muted" title="The organization's budget applies">organization's</span>`
                : html`<span title=${k.spend ? `${usd(k.spend.remainingUsd)} left in ${k.spend.period}` : ""}>${usd(k.spend?.spentUsd ?? 0)} of ${usd(k.monthlyBudgetUsd)}</span>`}</td>
              <td data-label="Status">${k.revokedAt ? html`<${Badge} tone="bad">revoked ${dateTime(k.revokedAt)}<//>` : html`<${Badge} tone="good">active<//>`}</td>
              <td>${k.revokedAt
                ? null
                : revoking === k.id
                  ? html`<span class="row"><button type="button" class="danger small" disabled=${revoke.busy} onClick=${() => void revoke.run(k.id)}>Confirm revoke${mine ? " (signs you out)" : ""}</button><button type="button" class="secondary small" onClick=${() => setRevoking(null)}>Cancel</button></span>`
                  : html`<button type="button" class="secondary small" aria-label=${`Revoke ${k.name}`} onClick=${() => setRevoking(k.id)}>Revoke</button>`}</td>
            </tr>`;
          })}</tbody>
        </table></div>`
      : null}
    ${revoke.error ? html`<p class="form-error" role="alert">${describeError(revoke.error)}</p>` : null}
  </section>`;
}

/** The rate limits' fields, in the order shown: [section, field, label]. */
const LIMIT_FIELDS = [
  ["organization", "requestsPerSecond", "Organization: requests a second"],
  ["organization", "burst", "Organization: burst"],
  ["apiKey", "requestsPerSecond", "Each key: requests a second"],
  ["apiKey", "burst", "Each key: burst"],
  ["chat", "requestsPerMinute", "Chat completions a minute"],
  ["chat", "tokensPerMinute", "Chat tokens a minute"],
] as const;
const limitOf = (limits: Limits, section: string, field: string): number => (limits as unknown as Record<string, Record<string, number>>)[section]![field]!;

/**
 * The organization's rate limits: an organization key reads them; the operator changes any of them.
 * Only values that differ from the tier's defaults are sent as the override, so the rest keep
 * following the tier.
 */
function RateLimits({ org, operator }: { org: Organization; operator: boolean }) {
  const limits = useResource((signal) => api<RateLimitSettings>(`/organizations/${org.id}/rate-limits`, { signal }), [org.id, org.updatedAt]);
  const settings = limits.data;
  // Only the fields the operator has typed in are state; the rest show the loaded values, so an edit
  // made while the limits load (or reload) is never overwritten by them.
  const [edits, setEdits] = useState<Record<string, string>>({});
  const shown = (section: string, field: string): string =>
    edits[`${section}.${field}`] ?? (settings ? String(limitOf(settings.effective, section, field)) : "");
  const save = useAction(async (reset: boolean) => {
    const override: Record<string, Record<string, number>> = {};
    if (!reset && settings) {
      for (const [section, field] of LIMIT_FIELDS) {
        const entered = Number(shown(section, field));
        if (entered !== limitOf(settings.defaults, section, field)) (override[section] ??= {})[field] = entered;
      }
    }
    await api(`/organizations/${org.id}/rate-limits`, { method: "PUT", body: override });
    setEdits({});
    limits.reload();
  });
  return html`<section class="card" aria-labelledby="limits-title">
    <h2 id="limits-title">Rate limits</h2>
    ${limits.error ? html`<${ErrorNote} error=${limits.error} retry=${limits.reload} title="The rate limits could not be loaded." />` : null}
    ${!settings && limits.loading ? html`<${Loading} label="Loading rate limits…" />` : null}
    ${settings && !operator
      ? html`<dl class="limits">${LIMIT_FIELDS.map(([section, field, text]) => html`<dt>${text}</dt><dd>${count(limitOf(settings.effective, section, field))}</dd>`)}</dl>`
      : null}
    ${settings && operator
      ? html`<form class="form" onSubmit=${(e: Event) => (e.preventDefault(), void save.run(false))}>
          ${LIMIT_FIELDS.map(([section, field, text]) => {
            const name = `${section}.${field}`;
            return html`<div class="field"><label for=${`limit-${name}`}>${text} <span class="muted">(tier: ${count(limitOf(settings.defaults, section, field))})</span></label>
              <input id=${`limit-${name}`} type="number" min=${field === "requestsPerSecond" ? "0.001" : "1"} step=${field === "requestsPerSecond" ? "any" : "1"} required value=${shown(section, field)} onInput=${(e: Event) => setEdits((current) => ({ ...current, [name]: value(e) }))} /></div>`;
          })}
          <div class="row"><button type="submit" disabled=${save.busy}>Save limits</button>
            <button type="button" class="secondary" disabled=${save.busy || !settings.override} onClick=${() => void save.run(true)}>Back to the tier's limits</button></div>
        </form>`
      : null}
    ${save.error ? html`<p class="form-error" role="alert">${describeError(save.error)}</p>` : null}
  </section>`;
}

function OrgDetail({ id }: { id: string }) {
  const { session } = useApp();
  const operator = session.role === "operator";
  const data = useResource(async (signal) => {
    const org = await api<Organization>(`/organizations/${id}`, { signal });
    const usage = org.status === "active" ? await api<OrganizationUsage>(`/organizations/${id}/usage`, { signal }) : null;
    return { org, usage };
  }, [id]);
  const [notice, setNotice] = useState<string | null>(null);
  const d = data.data;
  return html`<div class="view">
    ${operator ? html`<p><a href=${href("organizations")}>← All organizations</a></p>` : null}
    ${data.error ? html`<${ErrorNote} error=${data.error} retry=${data.reload} title="The organization could not be loaded." />` : null}
    ${!d && data.loading ? html`<${Loading} label="Loading the organization…" />` : null}
    ${d
      ? html`<${PageHeader} title=${d.org.name}><${Badge} tone=${d.org.status === "active" ? "good" : "bad"}>${d.org.status}<//><${Badge} tone="info">${label(d.org.tier)}<//><//>
          <${Notice} message=${notice} />
          <div class="split">
            <div>
              <${OrgForm} key=${d.org.updatedAt} org=${d.org} operator=${operator} onSaved=${(o: Organization) => (setNotice(`Saved ${o.name}.`), data.reload())} />
              ${d.usage
                ? html`<section class="card" aria-labelledby="usage-title"><h2 id="usage-title">Usage in ${d.usage.period}</h2><${UsageBars} usage=${d.usage} />
                    <p class="muted">Bill so far: ${usd(d.usage.bill.totalUsd)} (base ${usd(d.usage.bill.basePriceUsd)} + metered ${usd(d.usage.bill.meteredUsd)}). Resets ${dateTime(d.usage.resetsAt)}.</p></section>`
                : null}
            </div>
            <div>
              <${ApiKeys} org=${d.org} />
              ${d.org.status === "active" ? html`<${RateLimits} org=${d.org} operator=${operator} />` : null}
            </div>
          </div>`
      : null}
  </div>`;
}

function OrgList() {
  const rows = useResource(loadAll, []);
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  return html`<div class="view">
    <${PageHeader} title="Organizations">
      <button type="button" aria-expanded=${creating} onClick=${() => setCreating(!creating)}>${creating ? "Close form" : "New organization"}</button>
    <//>
    <${Notice} message=${notice} />
    ${creating ? html`<${OrgForm} operator=${true} onSaved=${(o: Organization) => (setNotice(`Created ${o.name}.`), setCreating(false), navigate("organizations", o.id))} />` : null}
    ${rows.error ? html`<${ErrorNote} error=${rows.error} retry=${rows.reload} title="The organizations could not be loaded." />` : null}
    ${!rows.data && rows.loading ? html`<${Loading} label="Loading organizations…" />` : null}
    ${rows.data && rows.data.length === 0 ? html`<${Empty}>No organizations yet. Create the first tenant with <strong>New organization</strong>.<//>` : null}
    ${rows.data?.length
      ? html`<ul class="org-grid" aria-label="Organizations">
          ${rows.data.map(
            ({ org, usage }) => html`<li key=${org.id} class="card org-card">
              <div class="card-head">
                <h2><a href=${href("organizations", org.id)}>${org.name}</a></h2>
                <span class="row"><${Badge} tone="info">${label(org.tier)}<//>${org.status === "closed" ? html`<${Badge} tone="bad">closed<//>` : null}</span>
              </div>
              <p class="muted">${label(org.industry)} · ${label(org.size)} · since ${dateTime(org.createdAt)}</p>
              ${usage ? html`<${UsageBars} usage=${usage} /><p class="muted">${count(usage.queries.total)} queries · ${usd(usage.costUsd)} model cost · bill ${usd(usage.bill.totalUsd)}</p>` : html`<p class="muted">No usage for a closed organization.</p>`}
            </li>`,
          )}
        </ul>`
      : null}
  </div>`;
}

export default function OrganizationsView({ route }: { route: string[] }) {
  const { session } = useApp();
  const ownId = session.org?.id;
  useEffect(() => {
    if (session.role === "org" && route[1] && route[1] !== ownId) navigate("organizations");
  }, [route[1]]);
  if (session.role === "org") return html`<${OrgDetail} id=${ownId} />`;
  return route[1] ? html`<${OrgDetail} key=${route[1]} id=${route[1]} />` : html`<${OrgList} />`;
}
