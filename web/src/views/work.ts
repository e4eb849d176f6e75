import { useState } from "preact/hooks";
import type { TaskRecord, TaskStatus, WorkSettings, WorkUsage } from "../../../core/agents/work.schema";
import { Badge, Empty, ErrorNote, Loading, Meter, PageHeader } from "../components/ui";
import { agentName, loadDirectory, type Directory } from "../lib/agents";
import { api, type Page } from "../lib/client";
import { count, dateTime, duration, label, usd } from "../lib/format";
import { html } from "../lib/html";
import { useDebounced, useEvents, useResource } from "../lib/hooks";

type Task = Omit<TaskRecord, "version" | "claim" | "costMicroUsd">;

const STATUSES: TaskStatus[] = ["queued", "working", "done", "failed", "needs_human"];
const TONE: Record<TaskStatus, "warn" | "info" | "good" | "bad"> = { queued: "warn", working: "info", done: "good", failed: "bad", needs_human: "warn" };
const value = (e: Event) => (e.target as HTMLSelectElement).value;

/** How long a task took (or has been working), from its claim to its end. */
function elapsed(task: Task): string {
  if (!task.startedAt) return "—";
  const end = task.finishedAt ? Date.parse(task.finishedAt) : Date.now();
  return duration(Math.max(0, Math.round((end - Date.parse(task.startedAt)) / 1000)));
}

/** Per agent: how many of its tasks are in each status, with their steps and cost. */
function byAgent(tasks: Task[]) {
  const rows = new Map<string, { agentId: string; counts: Partial<Record<TaskStatus, number>>; steps: number; costUsd: number }>();
  for (const task of tasks) {
    const row = rows.get(task.agentId) ?? { agentId: task.agentId, counts: {}, steps: 0, costUsd: 0 };
    row.counts[task.status] = (row.counts[task.status] ?? 0) + 1;
    row.steps += task.steps;
    row.costUsd += task.costUsd;
    rows.set(task.agentId, row);
  }
  return [...rows.values()];
}

function Limits({ settings, usage }: { settings: WorkSettings; usage: WorkUsage }) {
  return html`<section class="card" aria-labelledby="work-limits-title">
    <h2 id="work-limits-title">Today (${usage.day})</h2>
    <div class="grid3">
      <${Meter} label="Working now" used=${usage.running} limit=${settings.maxConcurrentTasks} />
      <${Meter} label="Tasks started today" used=${usage.tasks} limit=${settings.dailyTasks} format=${count} />
      <${Meter} label="Model cost today" used=${usage.costUsd} limit=${settings.dailyCostUsd} format=${usd} />
    </div>
    <p class="muted">A task gets at most ${settings.maxStepsPerTask} model calls and ${usd(settings.maxCostPerTaskUsd)}; past a daily limit, tasks wait for a person (needs human).</p>
  </section>`;
}

/**
 * The live work board: what the organization's agents are working on by themselves (messages that
 * ask for work become tasks on the work queue), per agent and task by task, with status, steps, cost
 * and time. It reloads when a message changes (the `messages` events), a burst becoming one reload.
 */
export default function WorkView() {
  const [status, setStatus] = useState<TaskStatus | "">("");
  const directory = useResource((signal) => loadDirectory(signal), []);
  const tasks = useResource((signal) => api<Page<Task>>("/tasks", { query: { limit: 100, ...(status ? { status } : {}) }, signal }), [status]);
  const limits = useResource((signal) => api<{ settings: WorkSettings; usage: WorkUsage }>("/work-settings", { signal }), []);
  const refresh = useDebounced(() => (tasks.reload(), limits.reload()), 300);
  useEvents(["message."], refresh);

  const d: Directory | undefined = directory.data;
  const items = tasks.data?.items;
  const error = tasks.error ?? directory.error;
  return html`<div class="view">
    <${PageHeader} title="Work" />
    ${limits.data ? html`<${Limits} settings=${limits.data.settings} usage=${limits.data.usage} />` : null}
    ${error ? html`<${ErrorNote} error=${error} retry=${() => (tasks.reload(), directory.reload())} title="The work board could not be loaded." />` : null}
    <div class="toolbar">
      <label for="work-status">Status</label>
      <select id="work-status" value=${status} onChange=${(e: Event) => setStatus(value(e) as TaskStatus | "")}>
        <option value="">All</option>
        ${STATUSES.map((s) => html`<option value=${s}>${label(s)}</option>`)}
      </select>
      <span class="muted">Newest first · updates live as agents work</span>
    </div>
    ${!items && tasks.loading ? html`<${Loading} label="Loading tasks…" />` : null}
    ${items && items.length === 0
      ? html`<${Empty}>${status ? `No ${label(status).toLowerCase()} tasks.` : html`No tasks yet. Agents get work when a delegation, an escalation or a direct message reaches them (Messages, or an agent's own tools).`}<//>`
      : null}
    ${items && items.length
      ? html`<section class="card" aria-labelledby="work-agents-title">
          <h2 id="work-agents-title">By agent</h2>
          <ul class="work-agents">
            ${byAgent(items).map(
              (row) => html`<li key=${row.agentId}>
                <strong>${agentName(d, row.agentId)}</strong>
                <span class="row">${STATUSES.filter((s) => row.counts[s]).map((s) => html`<${Badge} tone=${TONE[s]}>${row.counts[s]} ${label(s).toLowerCase()}<//>`)}</span>
                <span class="muted">${count(row.steps)} ${row.steps === 1 ? "step" : "steps"} · ${usd(row.costUsd)}</span>
              </li>`,
            )}
          </ul>
        </section>
        <div class="table-wrap stacking" tabindex="0" role="region" aria-label="Tasks">
          <table class="table stack">
            <caption class="visually-hidden">Tasks, newest first</caption>
            <thead><tr><th scope="col">Task</th><th scope="col">Agent</th><th scope="col">Status</th><th scope="col">Steps</th><th scope="col">Cost</th><th scope="col">Time</th><th scope="col">Result</th></tr></thead>
            <tbody>
              ${items.map(
                (t) => html`<tr key=${t.id} data-task=${t.id}>
                  <td data-label="Task"><${Badge} tone="info">${t.kind}<//> ${t.subject ?? ""} <span class="muted">from ${t.from.startsWith("key:") || t.from === "system" ? t.from : agentName(d, t.from)}${t.depth ? ` · hop ${t.depth}` : ""}</span></td>
                  <td data-label="Agent">${agentName(d, t.agentId)}</td>
                  <td data-label="Status"><${Badge} tone=${TONE[t.status]}>${label(t.status)}<//>${t.reason ? html`<span class="muted block">${t.reason}</span>` : null}${t.attempts > 1 ? html`<span class="muted block">${t.attempts} attempts</span>` : null}</td>
                  <td data-label="Steps">${t.steps}</td>
                  <td class="nowrap" data-label="Cost">${usd(t.costUsd)}</td>
                  <td class="nowrap" data-label="Time" title=${`created ${dateTime(t.createdAt)}`}>${elapsed(t)}</td>
                  <td data-label="Result" class="work-result">${t.result ?? html`<span class="muted">—</span>`}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`
      : null}
  </div>`;
}
