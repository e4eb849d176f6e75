import type { ChartConfiguration } from "chart.js";
import { useMemo, useState } from "preact/hooks";
import type { OrganizationUsage, Organization } from "../../../core/tenants/organization.schema";
import { Badge, Empty, ErrorNote, Loading, Meter, Notice, PageHeader } from "../components/ui";
import { agentName, loadDirectory, type Directory } from "../lib/agents";
import { ChartView, COLORS, modelColor, modelColors } from "../lib/charts";
import { api, describeError, type Page } from "../lib/client";
import { count, dateTime, percent, usd } from "../lib/format";
import { html } from "../lib/html";
import { useAction, useApp, useDebounced, useEvents, useResource } from "../lib/hooks";

/** A routing decision (`GET /routing/decisions`), or the part of one a `usage.updated` event carries. */
interface Decision {
  id: string;
  time: string;
  tier: "slm" | "llm";
  model: string;
  costMicroUsd: number;
  baselineMicroUsd: number;
  agentId?: string | null;
  score?: number | null;
  threshold?: number | null;
  reason?: { code: string; detail: string };
  offline?: boolean;
}
interface Model {
  id: string;
  tier: "slm" | "llm";
  outputUsdPerMTok: number;
  default: boolean;
}
interface RoutingSettings {
  override?: { mode: "fixed"; tier: "slm" | "llm" } | { mode: "threshold"; threshold: number } | null;
  calibration?: { targetLlmShare: number } | { qualityFloor: number } | null;
}
interface GlobalStats {
  period: string;
  organizations: number;
  queries: number;
  slmQueries: number;
  llmQueries: number;
  slmShare: number;
  costUsd: number;
  baselineUsd: number;
  savingsUsd: number;
  models: Record<string, number>;
}

const MAX_DECISIONS = 300;
/** Near the threshold: LLM queries scoring this close above it are the first a lower quality floor moves to the SLM. */
const NEAR = 0.1;

async function loadDecisions(signal: AbortSignal): Promise<Decision[]> {
  const all: Decision[] = [];
  let cursor: string | undefined;
  do {
    const page = await api<Page<Decision>>("/routing/decisions", { query: { limit: 100, cursor }, signal });
    all.push(...page.items);
    cursor = page.cursor;
  } while (cursor && all.length < MAX_DECISIONS);
  return all.reverse();
}

const BUCKETS = [60, 300, 900, 3600, 6 * 3600, 86_400].map((s) => s * 1000);

/**
 * Decisions per time bucket (the smallest of 1 min … 1 day that gives at most 24 buckets), with their
 * cost and all-LLM baseline. Each bucket's label is unique: it carries the date when the buckets span
 * more than one day, so the time axis never repeats a label (one point per query used to).
 */
function buckets(decisions: Decision[]) {
  if (!decisions.length) return [];
  const first = Date.parse(decisions[0]!.time);
  const last = Date.parse(decisions[decisions.length - 1]!.time);
  const size = BUCKETS.find((b) => (last - first) / b <= 24) ?? BUCKETS[BUCKETS.length - 1]!;
  const map = new Map<number, { start: number; slm: number; llm: number; costMicroUsd: number; baselineMicroUsd: number }>();
  for (const d of decisions) {
    const start = Math.floor(Date.parse(d.time) / size) * size;
    const bucket = map.get(start) ?? { start, slm: 0, llm: 0, costMicroUsd: 0, baselineMicroUsd: 0 };
    bucket[d.tier]++;
    bucket.costMicroUsd += d.costMicroUsd;
    bucket.baselineMicroUsd += d.baselineMicroUsd;
    map.set(start, bucket);
  }
  const sorted = [...map.values()].sort((a, b) => a.start - b.start);
  const day = (ms: number) => new Date(ms).toDateString();
  const manyDays = day(sorted[0]!.start) !== day(sorted[sorted.length - 1]!.start);
  const hourMinute = (ms: number) => new Date(ms).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
  const dayLabel = (ms: number) => new Date(ms).toLocaleDateString(undefined, { month: "short", day: "numeric" });
  return sorted.map((b) => ({
    ...b,
    label: size >= 86_400_000 ? dayLabel(b.start) : manyDays ? `${dayLabel(b.start)} ${hourMinute(b.start)}` : hourMinute(b.start),
  }));
}

interface Tip {
  tone: "info" | "warn" | "good";
  text: string;
}

/** Advice drawn from the data: where the SLM could take more, and whether the budget will last. */
function tipsFrom(decisions: Decision[], usage: OrganizationUsage, settings: RoutingSettings | undefined, directory: Directory | undefined, models: Model[]): Tip[] {
  const tips: Tip[] = [];
  if (!decisions.length) return [{ tone: "info", text: "No queries yet this period: tips appear once agents and API clients use the models." }];
  const slmPrice = models.find((m) => m.tier === "slm" && m.default)?.outputUsdPerMTok ?? 0;
  const llmPrice = models.find((m) => m.tier === "llm" && m.default)?.outputUsdPerMTok ?? 1;
  const keep = llmPrice > 0 ? slmPrice / llmPrice : 0;
  const reference = [...decisions].reverse().find((d) => d.threshold != null)?.threshold ?? null;
  const floor = settings?.calibration && "qualityFloor" in settings.calibration ? settings.calibration.qualityFloor : null;
  const byAgent = new Map<string, Decision[]>();
  for (const d of decisions) if (d.agentId) byAgent.set(d.agentId, [...(byAgent.get(d.agentId) ?? []), d]);
  const agentTips: (Tip & { saving: number })[] = [];
  for (const [agentId, list] of byAgent) {
    const llm = list.filter((d) => d.tier === "llm");
    if (!llm.length) continue;
    const name = agentName(directory, agentId);
    const pinned = llm.filter((d) => d.score != null && (d.threshold == null ? reference != null && d.score < reference : d.score < d.threshold));
    const near = llm.filter((d) => d.score != null && d.threshold != null && d.score >= d.threshold && d.score - d.threshold < NEAR);
    const savingOf = (items: Decision[]) => items.reduce((sum, d) => sum + d.costMicroUsd * (1 - keep), 0) / 1e6;
    if (pinned.length) {
      const saving = savingOf(pinned);
      agentTips.push({ tone: "warn", saving, text: `${name} sent ${pinned.length} of ${list.length} queries to the LLM although they scored below the routing threshold (its role pins the LLM, or its routing is off). Routing them by complexity would have saved about ${usd(saving)}.` });
    } else if (near.length) {
      const saving = savingOf(near);
      agentTips.push({
        tone: "info",
        saving,
        text: `${name}: ${near.length} of its ${llm.length} LLM queries scored within ${NEAR} of the threshold. ${floor != null ? `A quality floor a little below ${floor}` : "A quality floor (Routing settings)"} would send them to the SLM, about ${usd(saving)} less.`,
      });
    }
  }
  agentTips.sort((a, b) => b.saving - a.saving);
  tips.push(...agentTips.slice(0, 4).map(({ tone, text }) => ({ tone, text })));

  const share = usage.queries.total ? usage.queries.slm / usage.queries.total : 0;
  if (usage.queries.total >= 5 && share < 0.5 && !settings?.calibration && !settings?.override) {
    tips.push({ tone: "info", text: `Only ${percent(share)} of queries went to the SLM. Setting a quality floor or a target LLM share in Routing settings trades a measured quality loss for cost.` });
  }
  const now = new Date();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const elapsed = (Date.now() - monthStart) / (Date.parse(usage.resetsAt) - monthStart);
  const projected = elapsed > 0.02 ? usage.modelSpendUsd.used / elapsed : usage.modelSpendUsd.used;
  if (usage.modelSpendUsd.limit > 0 && projected > usage.modelSpendUsd.limit * 0.8) {
    tips.push({ tone: "warn", text: `At this pace, model spend reaches ${usd(projected)} by the end of the month, ${percent(projected / usage.modelSpendUsd.limit)} of the ${usd(usage.modelSpendUsd.limit)} budget: route more to the SLM or raise the spend cap.` });
  } else {
    tips.push({ tone: "good", text: `Projected month-end model spend: ${usd(projected)}, within the ${usd(usage.modelSpendUsd.limit)} budget.` });
  }
  if (usage.savingsUsd > 0) tips.push({ tone: "good", text: `Routing saved ${usd(usage.savingsUsd)} (${percent(usage.baselineUsd ? usage.savingsUsd / usage.baselineUsd : 0)}) against sending every query to the default LLM.` });
  if (usage.estimated) tips.push({ tone: "info", text: "Some figures come from the offline responder (no model endpoint configured): token counts and costs are estimates." });
  return tips;
}

function Kpi({ label, value, sub }: { label: string; value: string; sub?: string }) {
  return html`<div class="kpi"><p class="kpi-label">${label}</p><p class="kpi-value">${value}</p>${sub ? html`<p class="kpi-sub">${sub}</p>` : null}</div>`;
}

function RoutingForm({ settings, onSaved }: { settings: RoutingSettings; onSaved: (message: string) => void }) {
  const initial = settings.override ? `override_${settings.override.mode}` : settings.calibration ? ("qualityFloor" in settings.calibration ? "qualityFloor" : "targetLlmShare") : "default";
  const initialValue = settings.override?.mode === "threshold" ? settings.override.threshold : settings.calibration ? Object.values(settings.calibration)[0] : 0.9;
  const [mode, setMode] = useState(initial);
  const [num, setNum] = useState(String(initialValue ?? 0.9));
  const [tier, setTier] = useState(settings.override?.mode === "fixed" ? settings.override.tier : "slm");
  const save = useAction(async () => {
    const n = Number(num);
    const body: RoutingSettings =
      mode === "default" ? { override: null, calibration: null }
      : mode === "override_fixed" ? { override: { mode: "fixed", tier: tier as "slm" | "llm" }, calibration: null }
      : mode === "override_threshold" ? { override: { mode: "threshold", threshold: n }, calibration: null }
      : mode === "qualityFloor" ? { override: null, calibration: { qualityFloor: n } }
      : { override: null, calibration: { targetLlmShare: n } };
    await api("/routing/settings", { method: "PUT", body });
    onSaved("Routing settings saved: they apply to the next query.");
  });
  const needsNumber = mode !== "default" && mode !== "override_fixed";
  return html`<form class="card form" aria-labelledby="routing-title" onSubmit=${(e: Event) => (e.preventDefault(), void save.run())}>
    <h2 id="routing-title">Routing settings</h2>
    <div class="grid3">
      <div class="field"><label for="r-mode">Policy</label>
        <select id="r-mode" value=${mode} onChange=${(e: Event) => setMode((e.target as HTMLSelectElement).value)}>
          <option value="default">Industry default</option>
          <option value="qualityFloor">Quality floor (0–1)</option>
          <option value="targetLlmShare">Target LLM share (0–1)</option>
          <option value="override_threshold">Fixed threshold (0–1)</option>
          <option value="override_fixed">One tier for everything</option>
        </select></div>
      ${needsNumber ? html`<div class="field"><label for="r-value">Value</label><input id="r-value" type="number" min="0" max="1" step="0.01" value=${num} onInput=${(e: Event) => setNum((e.target as HTMLInputElement).value)} /></div>` : null}
      ${mode === "override_fixed" ? html`<div class="field"><label for="r-tier">Tier</label><select id="r-tier" value=${tier} onChange=${(e: Event) => setTier((e.target as HTMLSelectElement).value as "slm" | "llm")}><option value="slm">SLM</option><option value="llm">LLM</option></select></div>` : null}
    </div>
    <p class="hint">A quality floor keeps at least that share of the LLM's measured quality gain while sending as much as possible to the SLM.</p>
    ${save.error ? html`<p class="form-error" role="alert">${describeError(save.error)}</p>` : null}
    <button type="submit" class="secondary" disabled=${save.busy}>${save.busy ? "Saving…" : "Save routing settings"}</button>
  </form>`;
}

/** A model's name with its chart colour, the legend the tables under the charts carry. */
const swatch = (model: string) => html`<span class="swatch" data-color=${modelColor(model)} style=${`background:${modelColor(model)}`} aria-hidden="true"></span>${model}`;

function DataTable({ caption, head, rows }: { caption: string; head: string[]; rows: (string | number | ReturnType<typeof html>)[][] }) {
  return html`<details class="data-table"><summary>${caption}: the numbers</summary>
    <div class="table-wrap" tabindex="0" role="region" aria-label=${caption}><table class="table compact"><caption class="visually-hidden">${caption}</caption>
      <thead><tr>${head.map((h) => html`<th scope="col">${h}</th>`)}</tr></thead>
      <tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table></div>
  </details>`;
}

function OrgCost() {
  const { session } = useApp();
  const orgId = session.org!.id;
  const usage = useResource((signal) => api<OrganizationUsage>(`/organizations/${orgId}/usage`, { signal }), []);
  const decisions = useResource(loadDecisions, []);
  const extras = useResource(async (signal) => {
    const [directory, models, settings] = await Promise.all([
      loadDirectory(signal),
      api<{ data: Model[] }>("/models", { signal }),
      api<RoutingSettings>("/routing/settings", { signal }),
    ]);
    return { directory, models: models.data, settings };
  }, []);
  const [live, setLive] = useState(0);
  const [notice, setNotice] = useState<string | null>(null);
  const refreshUsage = useDebounced(usage.reload, 250);
  useEvents(["usage.updated"], (event) => {
    const d = event.data as { recordId: string; model: string; tier: "slm" | "llm"; costMicroUsd: number; baselineMicroUsd: number; agentId: string | null };
    decisions.set((list) => (list && !list.some((x) => x.id === d.recordId) ? [...list, { id: d.recordId, time: event.time, tier: d.tier, model: d.model, costMicroUsd: d.costMicroUsd, baselineMicroUsd: d.baselineMicroUsd, agentId: d.agentId }] : list));
    setLive((n) => n + 1);
    refreshUsage();
  });
  const u = usage.data;
  const list = decisions.data;
  const share = useMemo(() => {
    const b = buckets(list ?? []);
    const data: ChartConfiguration<"bar" | "line">["data"] = {
      labels: b.map((x) => x.label),
      datasets: [
        { type: "bar", label: "SLM queries", data: b.map((x) => x.slm), backgroundColor: COLORS.slm, stack: "q", yAxisID: "y" },
        { type: "bar", label: "LLM queries", data: b.map((x) => x.llm), backgroundColor: COLORS.llm, stack: "q", yAxisID: "y" },
        { type: "line", label: "SLM share (%)", data: b.map((x) => Math.round((x.slm / (x.slm + x.llm)) * 100)), borderColor: "#b45309", backgroundColor: "#b45309", yAxisID: "share" },
      ],
    };
    return { b, data };
  }, [list]);
  const cumulative = useMemo(() => {
    // Per interval, on the same axis as the share chart: one label per interval, never repeated.
    let cost = 0;
    let base = 0;
    // From zero at the period's start, so even one interval draws a line rather than a lone point.
    const points = [{ t: "Start", cost, base }, ...share.b.map((b) => ((cost += b.costMicroUsd / 1e6), (base += b.baselineMicroUsd / 1e6), { t: b.label, cost, base }))];
    const data: ChartConfiguration<"line">["data"] = {
      labels: points.map((p) => p.t),
      datasets: [
        { label: "Actual cost (USD)", data: points.map((p) => p.cost), borderColor: COLORS.cost, backgroundColor: "rgba(29,78,216,0.15)", fill: "origin", pointRadius: 2 },
        { label: "All-LLM baseline (USD)", data: points.map((p) => p.base), borderColor: COLORS.baseline, borderDash: [6, 4], pointRadius: 2 },
      ],
    };
    return { points, data };
  }, [share]);
  const modelData = useMemo(() => {
    const entries = Object.entries(u?.models ?? {}).sort((a, b) => b[1] - a[1]);
    const colors = modelColors(entries.map((e) => e[0]));
    const data: ChartConfiguration<"doughnut">["data"] = { labels: entries.map((e) => e[0]), datasets: [{ data: entries.map((e) => e[1]), backgroundColor: colors }] };
    return { entries, data };
  }, [u?.models, extras.data]);
  const tips = u && list ? tipsFrom(list, u, extras.data?.settings, extras.data?.directory, extras.data?.models ?? []) : [];
  const error = usage.error ?? decisions.error;
  return html`<div class="view">
    <${PageHeader} title="Cost analytics">${live ? html`<${Badge} tone="good">${live} new ${live === 1 ? "query" : "queries"} live<//>` : html`<span class="muted">Updates live as queries happen</span>`}<//>
    <${Notice} message=${notice} />
    ${error ? html`<${ErrorNote} error=${error} retry=${() => (usage.reload(), decisions.reload())} title="The usage could not be loaded." />` : null}
    ${!u && usage.loading ? html`<${Loading} label="Loading usage…" />` : null}
    ${u
      ? html`<section class="kpis" aria-label=${`Totals for ${u.period}`}>
          <${Kpi} label="Queries" value=${count(u.queries.total)} sub=${`${count(u.queries.slm)} SLM · ${count(u.queries.llm)} LLM`} />
          <${Kpi} label="SLM share" value=${u.queries.total ? percent(u.queries.slm / u.queries.total) : "—"} sub=${`${count(u.queries.fallbacks)} fallbacks`} />
          <${Kpi} label="Model cost" value=${usd(u.costUsd)} sub=${u.estimated ? "includes estimates" : `${count(u.tokens.input + u.tokens.output)} tokens`} />
          <${Kpi} label="All-LLM baseline" value=${usd(u.baselineUsd)} sub="same tokens on the default LLM" />
          <${Kpi} label="Savings" value=${usd(u.savingsUsd)} sub=${u.baselineUsd ? `${percent(u.savingsUsd / u.baselineUsd)} of baseline` : "—"} />
          <${Kpi} label="Bill so far" value=${usd(u.bill.totalUsd)} sub=${`base ${usd(u.bill.basePriceUsd)} + metered`} />
        </section>
        <div class="chart-grid">
          <section class="card" aria-labelledby="share-title">
            <h2 id="share-title">SLM vs LLM over time</h2>
            ${list && list.length
              ? html`<${ChartView} id="chart-share" config=${{ type: "bar", data: share.data, options: { scales: { y: { stacked: true, beginAtZero: true, title: { display: true, text: "queries" } }, share: { position: "right", min: 0, max: 100, grid: { drawOnChartArea: false }, title: { display: true, text: "SLM %" } }, x: { stacked: true } } } }} summary=${`Queries per time interval by tier: ${count(u.queries.slm)} SLM and ${count(u.queries.llm)} LLM this period.`} />
                  <${DataTable} caption="Queries over time" head=${["Interval", "SLM", "LLM"]} rows=${share.b.map((x) => [x.label, x.slm, x.llm])} />`
              : decisions.loading ? html`<${Loading} />` : html`<${Empty}>No queries yet this period.<//>`}
          </section>
          <section class="card" aria-labelledby="cumulative-title">
            <h2 id="cumulative-title">Cost against all-LLM</h2>
            ${list && list.length
              ? html`<${ChartView} id="chart-cost" config=${{ type: "line", data: cumulative.data, options: { scales: { y: { beginAtZero: true, ticks: { callback: (v: string | number) => usd(Number(v)) } } } } }} summary=${`Cumulative cost ${usd(u.costUsd)} against an all-LLM baseline of ${usd(u.baselineUsd)}.`} />
                  <${DataTable} caption="Cumulative cost" head=${["Interval", "Cost", "All-LLM"]} rows=${cumulative.points.slice(-20).map((p) => [p.t, usd(p.cost), usd(p.base)])} />`
              : decisions.loading ? html`<${Loading} />` : html`<${Empty}>No cost recorded yet.<//>`}
          </section>
          <section class="card" aria-labelledby="models-title">
            <h2 id="models-title">Model distribution</h2>
            ${modelData.entries.length
              ? html`<${ChartView} id="chart-models" height=${220} config=${{ type: "doughnut", data: modelData.data, options: { plugins: { legend: { position: "right" } } } }} summary=${`Queries per model: ${modelData.entries.map(([m, n]) => `${m} ${n}`).join(", ")}.`} />
                  <${DataTable} caption="Queries per model" head=${["Model", "Queries"]} rows=${modelData.entries.map(([m, n]) => [swatch(m), n])} />`
              : html`<${Empty}>No model has answered yet.<//>`}
          </section>
          <section class="card" aria-labelledby="budget-title">
            <h2 id="budget-title">Spend against budget</h2>
            <${Meter} label="Model spend this month" used=${u.modelSpendUsd.used} limit=${u.modelSpendUsd.limit} format=${usd} />
            <p class="muted">Budget resets ${dateTime(u.resetsAt)}. ${u.modelSpendUsd.limit ? `${percent(u.modelSpendUsd.used / u.modelSpendUsd.limit, 2)} used.` : ""}</p>
            <h3>Optimization tips</h3>
            <ul class="tips">${tips.map((t) => html`<li class=${`tip ${t.tone}`}>${t.text}</li>`)}</ul>
          </section>
        </div>
        ${extras.data ? html`<${RoutingForm} settings=${extras.data.settings} onSaved=${(m: string) => (setNotice(m), extras.reload())} />` : null}`
      : null}
  </div>`;
}

function GlobalCost() {
  const stats = useResource((signal) => api<GlobalStats>("/routing/global-stats", { signal }), []);
  const orgs = useResource(async (signal) => {
    const page = await api<Page<Organization>>("/organizations", { query: { limit: 100 }, signal });
    const active = page.items.filter((o) => o.status === "active");
    const usages = await Promise.all(active.map((o) => api<OrganizationUsage>(`/organizations/${o.id}/usage`, { signal })));
    return active.map((org, i) => ({ org, usage: usages[i]! })).sort((a, b) => b.usage.costUsd - a.usage.costUsd);
  }, []);
  const s = stats.data;
  const models = Object.entries(s?.models ?? {}).sort((a, b) => b[1] - a[1]);
  // The same colour per model as the organization's view: both key the shared palette by model id.
  const data = { labels: models.map((m) => m[0]), datasets: [{ data: models.map((m) => m[1]), backgroundColor: modelColors(models.map((m) => m[0])) }] };
  return html`<div class="view">
    <${PageHeader} title="Cost analytics: all tenants" />
    ${stats.error ? html`<${ErrorNote} error=${stats.error} retry=${stats.reload} title="The totals could not be loaded." />` : null}
    ${!s && stats.loading ? html`<${Loading} label="Loading totals…" />` : null}
    ${s
      ? html`<section class="kpis" aria-label=${`Totals for ${s.period}`}>
          <${Kpi} label="Organizations" value=${count(s.organizations)} />
          <${Kpi} label="Queries" value=${count(s.queries)} sub=${`${count(s.slmQueries)} SLM · ${count(s.llmQueries)} LLM`} />
          <${Kpi} label="SLM share" value=${s.queries ? percent(s.slmShare) : "—"} />
          <${Kpi} label="Model cost" value=${usd(s.costUsd)} />
          <${Kpi} label="All-LLM baseline" value=${usd(s.baselineUsd)} />
          <${Kpi} label="Savings" value=${usd(s.savingsUsd)} sub=${s.baselineUsd ? `${percent(s.savingsUsd / s.baselineUsd)} of baseline` : "—"} />
        </section>
        <div class="chart-grid">
          <section class="card" aria-labelledby="gmodels-title"><h2 id="gmodels-title">Model distribution</h2>
            ${models.length ? html`<${ChartView} id="chart-global-models" height=${220} config=${{ type: "doughnut", data, options: { plugins: { legend: { position: "right" } } } }} summary=${`Queries per model across tenants: ${models.map(([m, n]) => `${m} ${n}`).join(", ")}.`} /><${DataTable} caption="Queries per model" head=${["Model", "Queries"]} rows=${models.map(([m, n]) => [swatch(m), n])} />` : html`<${Empty}>No queries yet this period.<//>`}
          </section>
          <section class="card" aria-labelledby="spend-title"><h2 id="spend-title">Spend against budget, per tenant</h2>
            ${orgs.error ? html`<${ErrorNote} error=${orgs.error} retry=${orgs.reload} />` : null}
            ${!orgs.data && orgs.loading ? html`<${Loading} />` : null}
            ${orgs.data && orgs.data.length === 0 ? html`<${Empty}>No active organizations.<//>` : null}
            ${orgs.data?.map(({ org, usage }) => html`<div class="tenant-spend"><${Meter} label=${`${org.name} (${org.tier})`} used=${usage.modelSpendUsd.used} limit=${usage.modelSpendUsd.limit} format=${usd} /><p class="muted">${count(usage.queries.total)} queries · ${usage.queries.total ? percent(usage.queries.slm / usage.queries.total) : "—"} SLM · saved ${usd(usage.savingsUsd)}</p></div>`)}
          </section>
        </div>`
      : null}
  </div>`;
}

export default function CostView() {
  const { session } = useApp();
  return session.role === "operator" ? html`<${GlobalCost} />` : html`<${OrgCost} />`;
}
