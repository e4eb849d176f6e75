import { useEffect, useState } from "preact/hooks";
import { Badge, Empty, ErrorNote, Loading, Notice, PageHeader } from "../components/ui";
import { agentName, loadDirectory, type Directory } from "../lib/agents";
import { api, describeError, type Page } from "../lib/client";
import { dateTime, duration, label } from "../lib/format";
import { html } from "../lib/html";
import { useAction, useDebounced, useEvents, useResource } from "../lib/hooks";
import { href, navigate } from "../lib/router";
import { loadGroups } from "../lib/groups";
import { isClosed, needsOf, nextStates, PRIORITY_LABELS, slaStatus, TICKET_STATES, TICKET_TYPES, type AssignmentGroup, type Ticket } from "../lib/tickets";
import { CreateTicket, EditTicket } from "./tickets-forms";

const value = (e: Event) => (e.target as HTMLInputElement).value;

interface Filters {
  type: string;
  state: string;
  priority: string;
  assignee: string;
  group: string;
  sla: string;
  active: string;
  q: string;
}
const NO_FILTERS: Filters = { type: "", state: "", priority: "", assignee: "", group: "", sla: "", active: "true", q: "" };

/** A group's name, or a shortened id for a group that is gone. */
const groupName = (groups: AssignmentGroup[], id: string | null | undefined): string =>
  id ? (groups.find((g) => g.id === id)?.name ?? `${id.slice(0, 8)}…`) : "—";

function SlaBadge({ ticket }: { ticket: Ticket }) {
  const status = slaStatus(ticket);
  const left = ticket.sla.timeToBreachSeconds;
  return html`<span class="sla"><${Badge} tone=${status.tone}>${status.text}<//>${left !== null && left > 0 && !ticket.sla.breached ? html`<span class="muted"> ${duration(left)} left</span>` : null}</span>`;
}

function TicketList({ directory, groups }: { directory: Directory; groups: AssignmentGroup[] }) {
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [extra, setExtra] = useState<{ items: Ticket[]; cursor?: string } | null>(null);
  const [creating, setCreating] = useState(false);
  const query = {
    type: filters.type,
    state: filters.state,
    priority: filters.priority,
    assignee: filters.assignee,
    assignmentGroup: filters.group,
    active: filters.active,
    q: filters.q.trim(),
    breached: filters.sla === "breached" ? "true" : undefined,
    at_risk: filters.sla === "at_risk" ? "true" : undefined,
    limit: 25,
  };
  const list = useResource((signal) => api<Page<Ticket>>("/tickets", { query, signal }), [JSON.stringify(query)]);
  useEffect(() => setExtra(null), [list.data]);
  const refresh = useDebounced(list.reload, 300);
  useEvents(["ticket."], refresh);
  const more = useAction(async () => {
    const cursor = extra?.cursor ?? list.data?.cursor;
    const page = await api<Page<Ticket>>("/tickets", { query: { ...query, cursor } });
    setExtra({ items: [...(extra?.items ?? []), ...page.items], cursor: page.cursor });
  });
  const set = (field: keyof Filters) => (e: Event) => setFilters({ ...filters, [field]: value(e) });
  const tickets = list.data ? [...list.data.items, ...(extra?.items ?? [])] : undefined;
  const cursor = extra ? extra.cursor : list.data?.cursor;
  const filtered = JSON.stringify(filters) !== JSON.stringify(NO_FILTERS);
  return html`<div class="view">
    <${PageHeader} title="Tickets">
      <button type="button" aria-expanded=${creating} aria-controls="new-ticket" onClick=${() => setCreating(!creating)}>${creating ? "Close form" : "New ticket"}</button>
    <//>
    ${creating ? html`<${CreateTicket} directory=${directory} groups=${groups} onCreated=${(t: Ticket) => navigate("tickets", t.number)} />` : null}
    <form class="card filters" role="search" aria-label="Filter tickets" onSubmit=${(e: Event) => e.preventDefault()}>
      <div class="field"><label for="f-q">Search</label><input id="f-q" type="search" value=${filters.q} placeholder="Number, title, service…" onInput=${set("q")} /></div>
      <div class="field"><label for="f-type">Type</label><select id="f-type" value=${filters.type} onChange=${set("type")}><option value="">All types</option>${TICKET_TYPES.map((t) => html`<option value=${t}>${label(t)}</option>`)}</select></div>
      <div class="field"><label for="f-state">State</label><select id="f-state" value=${filters.state} onChange=${set("state")}><option value="">Any state</option>${TICKET_STATES.map((s) => html`<option value=${s}>${label(s)}</option>`)}</select></div>
      <div class="field"><label for="f-priority">Priority</label><select id="f-priority" value=${filters.priority} onChange=${set("priority")}><option value="">Any priority</option>${[1, 2, 3, 4, 5].map((p) => html`<option value=${String(p)}>${p} ${PRIORITY_LABELS[p]}</option>`)}</select></div>
      <div class="field"><label for="f-assignee">Assignee</label><select id="f-assignee" value=${filters.assignee} onChange=${set("assignee")}><option value="">Anyone</option><option value="none">Unassigned</option>${directory.agents.map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select></div>
      ${groups.length ? html`<div class="field"><label for="f-group">Assignment group</label><select id="f-group" value=${filters.group} onChange=${set("group")}><option value="">Any group</option>${groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}</select></div>` : null}
      <div class="field"><label for="f-sla">SLA</label><select id="f-sla" value=${filters.sla} onChange=${set("sla")}><option value="">Any SLA status</option><option value="breached">Breached</option><option value="at_risk">At risk</option></select></div>
      <div class="field"><label for="f-active">Open or closed</label><select id="f-active" value=${filters.active} onChange=${set("active")}><option value="true">Open only</option><option value="false">Ended only</option><option value="">Both</option></select></div>
      ${filtered ? html`<div class="field end"><button type="button" class="secondary" onClick=${() => setFilters(NO_FILTERS)}>Clear filters</button></div>` : null}
    </form>
    ${list.error ? html`<${ErrorNote} error=${list.error} retry=${list.reload} title="The tickets could not be loaded." />` : null}
    ${!tickets && list.loading ? html`<${Loading} label="Loading tickets…" />` : null}
    ${tickets && tickets.length === 0 && !cursor ? html`<${Empty}>${filtered ? "No ticket matches these filters." : "No open tickets. Create one with New ticket."}<//>` : null}
    ${tickets && tickets.length
      ? html`<div class="table-wrap stacking" tabindex="0" role="region" aria-label="Tickets">
          <table class="table stack">
            <caption class="visually-hidden">Tickets, newest first</caption>
            <thead><tr><th scope="col">Number</th><th scope="col">Title</th><th scope="col">Priority</th><th scope="col">State</th><th scope="col">Assigned to</th><th scope="col">SLA</th><th scope="col">Updated</th></tr></thead>
            <tbody>
              ${tickets.map(
                (t) => html`<tr key=${t.id}>
                  <td class="nowrap" data-label="Number"><a href=${href("tickets", t.number)}>${t.number}</a></td>
                  <td data-label="Title">${t.title}<span class="muted"> · ${label(t.type)}</span></td>
                  <td class="nowrap" data-label="Priority"><span class=${`prio p${t.priority}`}>${t.priority} ${t.priorityLabel}</span></td>
                  <td data-label="State"><${Badge}>${label(t.state)}<//></td>
                  <td data-label="Assigned to">${agentName(directory, t.assignedTo)}</td>
                  <td class="nowrap" data-label="SLA"><${SlaBadge} ticket=${t} /></td>
                  <td class="nowrap" data-label="Updated">${dateTime(t.updatedAt)}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`
      : null}
    ${more.error ? html`<${ErrorNote} error=${more.error} />` : null}
    ${cursor ? html`<p><button type="button" class="secondary" disabled=${more.busy} onClick=${() => void more.run()}>${more.busy ? "Loading…" : "Load more"}</button></p>` : null}
  </div>`;
}

function Clock({ name, clock }: { name: string; clock: Ticket["sla"]["response"] }) {
  if (!clock) return null;
  const share = Math.min(100, clock.percent);
  const tone = clock.breached ? "full" : clock.percent >= 75 && clock.status === "running" ? "high" : "ok";
  const text = clock.breached
    ? `breached ${duration(-clock.remainingSeconds)} ago`
    : clock.status === "running"
      ? `${duration(clock.remainingSeconds)} left (due ${dateTime(clock.dueAt)})`
      : clock.status === "paused"
        ? `paused, ${duration(clock.remainingSeconds)} left`
        : "met";
  return html`<div class="meter">
    <div class="meter-label"><span>${name} · target ${duration(clock.targetMinutes * 60)}</span><span>${text}</span></div>
    <div class=${`meter-bar ${tone}`} role="meter" aria-label=${`${name} SLA`} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.round(share)} aria-valuetext=${`${Math.round(clock.percent)}% of target, ${text}`}><span style=${`width:${share}%`}></span></div>
  </div>`;
}

function Transition({ ticket, onDone }: { ticket: Ticket; onDone: (t: Ticket, message: string) => void }) {
  const next = nextStates(ticket);
  const [to, setTo] = useState<string | null>(null);
  const [reason, setReason] = useState("");
  const [note, setNote] = useState("");
  useEffect(() => (setTo(null), setReason(""), setNote("")), [ticket.state]);
  const needs = to ? needsOf(ticket, to) : null;
  const move = useAction(async () => {
    const body = { to, ...(reason ? { reason } : {}), ...(note.trim() ? { note: note.trim() } : {}) };
    const updated = await api<Ticket>(`/tickets/${ticket.id}/transitions`, { method: "POST", body });
    onDone(updated, `${ticket.number} moved to ${label(updated.state)}.`);
  });
  if (next.length === 0) return html`<p class="muted">${label(ticket.state)} is final: no further transitions.</p>`;
  const ready = to && (!needs?.reasons || reason) && (needs?.notes !== "required" || note.trim());
  return html`<div class="transitions">
    <p class="row" role="group" aria-label="Move to">
      <span class="muted" aria-hidden="true">Move to</span>
      ${next.map(
        (state) => html`<button type="button" class=${to === state ? "" : "secondary"} aria-pressed=${to === state} onClick=${() => (setTo(state), setReason(""))}>${label(state)}</button>`,
      )}
    </p>
    ${to
      ? html`<form class="form subform" aria-label=${`Move to ${label(to)}`} onSubmit=${(e: Event) => (e.preventDefault(), void move.run())}>
          ${needs?.reasons
            ? html`<div class="field"><label for="tr-reason">${needs.reasonLabel}</label><select id="tr-reason" required value=${reason} onChange=${(e: Event) => setReason(value(e))}><option value="" disabled>Choose</option>${needs.reasons.map((r) => html`<option value=${r}>${label(r)}</option>`)}</select></div>`
            : null}
          <div class="field"><label for="tr-note">${needs?.guard === "resolution" || needs?.guard === "close_code" ? "Notes" : "Work note"} ${needs?.notes === "required" ? "(required)" : "(optional)"}</label><textarea id="tr-note" rows="2" value=${note} onInput=${(e: Event) => setNote(value(e))}></textarea></div>
          ${move.error ? html`<p class="form-error" role="alert">${describeError(move.error)}</p>` : null}
          <button type="submit" disabled=${move.busy || !ready}>${move.busy ? "Moving…" : `Move to ${label(to)}`}</button>
        </form>`
      : null}
  </div>`;
}

function Comment({ ticket, onDone }: { ticket: Ticket; onDone: (message: string) => void }) {
  const [text, setText] = useState("");
  const [visibility, setVisibility] = useState("comment");
  const add = useAction(async () => {
    await api(`/tickets/${ticket.id}/comments`, { method: "POST", body: { text, visibility } });
    setText("");
    onDone(visibility === "comment" ? "Comment added." : "Work note added.");
  });
  return html`<form class="form" aria-labelledby="comment-title" onSubmit=${(e: Event) => (e.preventDefault(), void add.run())}>
    <h3 id="comment-title">Add a comment</h3>
    <div class="field"><label for="c-text">Text</label><textarea id="c-text" rows="2" value=${text} onInput=${(e: Event) => setText(value(e))}></textarea></div>
    <fieldset class="inline"><legend>Visibility</legend>
      <label><input type="radio" name="visibility" value="comment" checked=${visibility === "comment"} onChange=${() => setVisibility("comment")} /> Comment (caller sees it)</label>
      <label><input type="radio" name="visibility" value="work_note" checked=${visibility === "work_note"} onChange=${() => setVisibility("work_note")} /> Work note (internal)</label>
    </fieldset>
    ${add.error ? html`<p class="form-error" role="alert">${describeError(add.error)}</p>` : null}
    <button type="submit" class="secondary" disabled=${add.busy || !text.trim()}>${add.busy ? "Adding…" : "Add comment"}</button>
  </form>`;
}

/** A history value: codes as words, free text as written. */
function show(v: unknown): string {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? "Yes" : "No";
  // A reference (the caller) by its name.
  if (typeof v === "object" && typeof (v as { name?: unknown }).name === "string") return (v as { name: string }).name;
  if (typeof v !== "string") return JSON.stringify(v);
  return /^[a-z_]+$/.test(v) ? label(v) : v;
}

function TicketDetail({ id, directory, groups }: { id: string; directory: Directory; groups: AssignmentGroup[] }) {
  const ticket = useResource((signal) => api<Ticket>(`/tickets/${encodeURIComponent(id)}`, { signal }), [id]);
  const [notice, setNotice] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);
  const refresh = useDebounced(ticket.reload, 300);
  useEvents(["ticket."], (event) => {
    const data = event.data as { ticket?: { id?: string }; id?: string };
    if ((data.ticket?.id ?? data.id) === ticket.data?.id) refresh();
  });
  const t = ticket.data;
  return html`<div class="view">
    <p><a href=${href("tickets")}>← All tickets</a></p>
    ${ticket.error ? html`<${ErrorNote} error=${ticket.error} retry=${ticket.reload} title=${`Ticket ${id} could not be loaded.`} />` : null}
    ${!t && ticket.loading ? html`<${Loading} label="Loading the ticket…" />` : null}
    ${t
      ? html`
          <${PageHeader} title=${`${t.number} · ${t.title}`}>
            ${isClosed(t) ? null : html`<button type="button" aria-expanded=${editing} aria-controls="edit-ticket" onClick=${() => setEditing(!editing)}>${editing ? "Close editor" : "Edit"}</button>`}
          <//>
          <${Notice} message=${notice} />
          ${editing && !isClosed(t)
            ? html`<${EditTicket}
                ticket=${t}
                directory=${directory}
                groups=${groups}
                onSaved=${(updated: Ticket, message: string) => (ticket.set((current) => ({ ...updated, history: current?.history })), setEditing(false), setNotice(message), ticket.reload())}
                onConflict=${(message: string) => (setEditing(false), setNotice(message), ticket.reload())}
                onCancel=${() => setEditing(false)}
              />`
            : null}
          <div class="split wide-left">
            <div>
              <section class="card" aria-labelledby="state-title">
                <h2 id="state-title">State: <span class="state-name">${label(t.state)}</span>${t.holdReason ? html` <span class="muted">(${label(t.holdReason)})</span>` : null}</h2>
                <${Transition} ticket=${t} onDone=${(updated: Ticket, message: string) => (ticket.set((current) => ({ ...updated, history: updated.history ?? current?.history })), setNotice(message), ticket.reload())} />
              </section>
              <section class="card" aria-labelledby="history-title">
                <h2 id="history-title">History</h2>
                <ol class="history">
                  ${(t.history ?? []).slice().reverse().map(
                    (h) => html`<li key=${h.seq}>
                      <p><strong>${label(h.action)}</strong> <span class="muted">by <span class="actor" title=${h.actor}>${h.actorName ?? h.actor}</span> · ${dateTime(h.at)}</span>${h.visibility === "work_note" ? html` <${Badge} tone="info">work note<//>` : null}</p>
                      ${h.link
                        ? html`<ul class="changes"><li>${label(h.link.kind)} <a href=${href("tickets", h.link.number)}>${h.link.number}</a></li></ul>`
                        : h.changes.length ? html`<ul class="changes">${h.changes.map((c) => html`<li>${label(c.field)}: ${c.field === "assignedTo" ? `${agentName(directory, c.from as string)} → ${agentName(directory, c.to as string)}` : c.field === "assignmentGroup" ? `${groupName(groups, c.from as string)} → ${groupName(groups, c.to as string)}` : `${show(c.from)} → ${show(c.to)}`}</li>`)}</ul>`
                          : null}
                      ${h.reason ? html`<p>Reason: ${label(h.reason)}</p>` : null}
                      ${h.note ? html`<p class="note">${h.note}</p>` : null}
                    </li>`,
                  )}
                </ol>
                ${isClosed(t) ? html`<p class="muted">This ticket has ended; it can no longer be changed or commented on.</p>` : html`<${Comment} ticket=${t} onDone=${(m: string) => (setNotice(m), ticket.reload())} />`}
              </section>
            </div>
            <div>
              <section class="card" aria-labelledby="sla-title">
                <h2 id="sla-title">SLA <${SlaBadge} ticket=${t} /></h2>
                ${t.sla.response || t.sla.resolution ? html`<${Clock} name="Response" clock=${t.sla.response} /><${Clock} name="Resolution" clock=${t.sla.resolution} />` : html`<p class="muted">No SLA applies to ${label(t.type).toLowerCase()}s.</p>`}
              </section>
              <section class="card" aria-labelledby="fields-title">
                <h2 id="fields-title">Details</h2>
                <dl class="facts">
                  <dt>Type</dt><dd>${label(t.type)}${t.changeType ? ` (${t.changeType})` : ""}</dd>
                  <dt>Priority</dt><dd><span class=${`prio p${t.priority}`}>${t.priority} ${t.priorityLabel}</span> (impact ${t.impact}, urgency ${t.urgency})</dd>
                  <dt>Assignment group</dt><dd>${groupName(groups, t.assignmentGroup)}</dd>
                  <dt>Assigned to</dt><dd>${agentName(directory, t.assignedTo)}</dd>
                  <dt>Caller</dt><dd><span class="actor" title=${t.caller.id ?? label(t.caller.kind)}>${t.caller.name}</span>${t.caller.kind === "agent" ? html` <span class="muted">(agent)</span>` : null}</dd>
                  <dt>Opened by</dt><dd><span class="actor" title=${t.createdBy}>${t.createdByName ?? t.createdBy}</span></dd>
                  <dt>Category</dt><dd>${t.category ?? "—"}</dd>
                  <dt>Service</dt><dd>${t.affectedService ?? "—"}</dd>
                  ${t.resolutionCode ? html`<dt>Resolution</dt><dd>${label(t.resolutionCode)}${t.resolutionNotes ? ` · ${t.resolutionNotes}` : ""}</dd>` : null}
                  ${t.approval ? html`<dt>Approval</dt><dd>${label(t.approval)}</dd>` : null}
                  ${t.type === "change"
                    ? html`<dt>Risk</dt><dd>${label(t.risk ?? "moderate")}</dd>
                        <dt>Planned start</dt><dd>${dateTime(t.plannedStart)}</dd>
                        <dt>Planned end</dt><dd>${dateTime(t.plannedEnd)}</dd>`
                    : null}
                  ${t.type === "problem"
                    ? html`<dt>Known error</dt><dd>${t.knownError ? html`<${Badge} tone="warn">Known error<//>` : "No"}</dd>
                        <dt>Root cause</dt><dd class="text">${t.rootCause || "—"}</dd>
                        <dt>Workaround</dt><dd class="text">${t.workaround || "—"}</dd>`
                    : null}
                  <dt>Opened</dt><dd>${dateTime(t.createdAt)}</dd>
                  <dt>Updated</dt><dd>${dateTime(t.updatedAt)}</dd>
                  ${t.links.length ? html`<dt>Links</dt><dd>${t.links.map((l) => html`<a href=${href("tickets", l.number)}>${l.number}</a> (${label(l.kind)}) `)}</dd>` : null}
                </dl>
                ${t.description ? html`<p class="note">${t.description}</p>` : null}
              </section>
            </div>
          </div>
        `
      : null}
  </div>`;
}

export default function TicketsView({ route }: { route: string[] }) {
  const lookups = useResource(async (signal) => {
    const [directory, groups] = await Promise.all([loadDirectory(signal), loadGroups(signal)]);
    return { directory, groups };
  }, []);
  if (lookups.error) return html`<${ErrorNote} error=${lookups.error} retry=${lookups.reload} title="The agents and assignment groups could not be loaded." />`;
  if (!lookups.data) return html`<${Loading} />`;
  const { directory, groups } = lookups.data;
  return route[1]
    ? html`<${TicketDetail} key=${route[1]} id=${route[1]} directory=${directory} groups=${groups} />`
    : html`<${TicketList} directory=${directory} groups=${groups} />`;
}
