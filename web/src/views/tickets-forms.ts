import { useState } from "preact/hooks";
import type { Directory } from "../lib/agents";
import { api, ApiError, describeError } from "../lib/client";
import { label } from "../lib/format";
import { html } from "../lib/html";
import { useAction } from "../lib/hooks";
import {
  assignableAgents,
  CHANGE_RISKS,
  CHANGE_TYPES,
  fromLocalInput,
  TICKET_TYPES,
  type AssignmentGroup,
  type Ticket,
} from "../lib/tickets";

const value = (e: Event) => (e.target as HTMLInputElement).value;
const IMPACTS = ["Widespread", "Some users", "One user"];
const URGENCIES = ["Work has stopped", "Work is slowed", "Can wait"];

/** Impact or urgency, 1-3, with what each level means. */
function Level({ id, text, value: current, help, onChange }: { id: string; text: string; value: string; help: string[]; onChange: (v: string) => void }) {
  return html`<div class="field"><label for=${id}>${text}</label><select id=${id} value=${current} onChange=${(e: Event) => onChange(value(e))}>${help.map((h, i) => html`<option value=${String(i + 1)}>${i + 1} · ${h}</option>`)}</select></div>`;
}

/** The assignment group and the assignee, offered from the group's members once a group is chosen. */
function Assignment({
  prefix,
  directory,
  groups,
  group,
  assignee,
  onChange,
}: {
  prefix: string;
  directory: Directory;
  groups: AssignmentGroup[];
  group: string;
  assignee: string;
  onChange: (group: string, assignee: string) => void;
}) {
  const chosen = groups.find((g) => g.id === group);
  const agents = assignableAgents(directory.agents, chosen);
  // A group change keeps the assignee only if they are one of the new group's members.
  const pickGroup = (next: string) => {
    const members = groups.find((g) => g.id === next)?.members;
    onChange(next, members && !members.includes(assignee) ? "" : assignee);
  };
  return html`
    <div class="field"><label for=${`${prefix}-group`}>Assignment group</label><select id=${`${prefix}-group`} value=${group} onChange=${(e: Event) => pickGroup(value(e))}><option value="">No group</option>${groups.map((g) => html`<option value=${g.id}>${g.name}</option>`)}</select></div>
    <div class="field"><label for=${`${prefix}-assignee`}>Assigned to${chosen ? html` <span class="muted">(members of ${chosen.name})</span>` : null}</label><select id=${`${prefix}-assignee`} value=${assignee} onChange=${(e: Event) => onChange(group, value(e))}><option value="">Unassigned</option>${agents.map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select></div>`;
}

const NEW_TICKET = {
  type: "incident",
  title: "",
  description: "",
  impact: "3",
  urgency: "3",
  callerKind: "me",
  callerName: "",
  callerAgent: "",
  group: "",
  assignedTo: "",
  category: "",
  affectedService: "",
  changeType: "normal",
  risk: "moderate",
  plannedStart: "",
  plannedEnd: "",
  rootCause: "",
  workaround: "",
  knownError: false,
};

/** The body of `POST /tickets` for the form: only what was filled in, and the fields of the ticket's type. */
export function createBody(form: typeof NEW_TICKET): Record<string, unknown> {
  const caller =
    form.callerKind === "person" && form.callerName.trim()
      ? { kind: "person", name: form.callerName.trim() }
      : form.callerKind === "agent" && form.callerAgent
        ? { kind: "agent", id: form.callerAgent }
        : undefined;
  return {
    type: form.type,
    title: form.title,
    description: form.description,
    impact: Number(form.impact),
    urgency: Number(form.urgency),
    ...(caller ? { caller } : {}),
    ...(form.group ? { assignmentGroup: form.group } : {}),
    ...(form.assignedTo ? { assignedTo: form.assignedTo } : {}),
    ...(form.category.trim() ? { category: form.category.trim() } : {}),
    ...(form.affectedService.trim() ? { affectedService: form.affectedService.trim() } : {}),
    ...(form.type === "change"
      ? {
          changeType: form.changeType,
          risk: form.risk,
          ...(form.plannedStart ? { plannedStart: fromLocalInput(form.plannedStart) } : {}),
          ...(form.plannedEnd ? { plannedEnd: fromLocalInput(form.plannedEnd) } : {}),
        }
      : {}),
    ...(form.type === "problem"
      ? {
          ...(form.rootCause.trim() ? { rootCause: form.rootCause.trim() } : {}),
          ...(form.workaround.trim() ? { workaround: form.workaround.trim() } : {}),
          ...(form.knownError ? { knownError: true } : {}),
        }
      : {}),
  };
}

/** The new-ticket form: caller, assignment, and the fields of changes (risk, window) and problems. */
export function CreateTicket({ directory, groups, onCreated }: { directory: Directory; groups: AssignmentGroup[]; onCreated: (t: Ticket) => void }) {
  const [form, setForm] = useState(NEW_TICKET);
  const set = (field: keyof typeof NEW_TICKET) => (e: Event) => setForm({ ...form, [field]: value(e) });
  const create = useAction(async () => onCreated(await api<Ticket>("/tickets", { method: "POST", body: createBody(form) })));
  const windowWrong = form.type === "change" && form.plannedStart && form.plannedEnd && form.plannedEnd <= form.plannedStart;
  const knownWithout = form.type === "problem" && form.knownError && !form.workaround.trim();
  return html`<form id="new-ticket" class="card form" aria-labelledby="new-ticket-title" onSubmit=${(e: Event) => (e.preventDefault(), void create.run())}>
    <h2 id="new-ticket-title">New ticket</h2>
    <div class="grid3">
      <div class="field"><label for="t-type">Type</label><select id="t-type" value=${form.type} onChange=${set("type")}>${TICKET_TYPES.map((t) => html`<option value=${t}>${label(t)}</option>`)}</select></div>
      <div class="field span2"><label for="t-title">Short description</label><input id="t-title" required maxlength="160" value=${form.title} onInput=${set("title")} /></div>
      <${Level} id="t-impact" text="Impact" value=${form.impact} help=${IMPACTS} onChange=${(v: string) => setForm({ ...form, impact: v })} />
      <${Level} id="t-urgency" text="Urgency" value=${form.urgency} help=${URGENCIES} onChange=${(v: string) => setForm({ ...form, urgency: v })} />
      <div class="field"><label for="t-caller-kind">Caller</label><select id="t-caller-kind" value=${form.callerKind} onChange=${set("callerKind")}><option value="me">Me (this API key)</option><option value="person">A person</option><option value="agent">An agent</option></select></div>
      ${form.callerKind === "person" ? html`<div class="field"><label for="t-caller-name">Caller's name or email</label><input id="t-caller-name" maxlength="120" value=${form.callerName} onInput=${set("callerName")} /></div>` : null}
      ${form.callerKind === "agent" ? html`<div class="field"><label for="t-caller-agent">Caller agent</label><select id="t-caller-agent" value=${form.callerAgent} onChange=${set("callerAgent")}><option value="" disabled>Choose an agent</option>${directory.agents.map((a) => html`<option value=${a.id}>${a.name}</option>`)}</select></div>` : null}
      <${Assignment} prefix="t" directory=${directory} groups=${groups} group=${form.group} assignee=${form.assignedTo} onChange=${(group: string, assignedTo: string) => setForm({ ...form, group, assignedTo })} />
      <div class="field"><label for="t-category">Category</label><input id="t-category" maxlength="80" value=${form.category} onInput=${set("category")} /></div>
      <div class="field"><label for="t-service">Affected service</label><input id="t-service" maxlength="120" value=${form.affectedService} onInput=${set("affectedService")} /></div>
      ${form.type === "change"
        ? html`<div class="field"><label for="t-change-type">Change type</label><select id="t-change-type" value=${form.changeType} onChange=${set("changeType")}>${CHANGE_TYPES.map((t) => html`<option value=${t}>${label(t)}</option>`)}</select></div>
            <div class="field"><label for="t-risk">Risk</label><select id="t-risk" value=${form.risk} onChange=${set("risk")}>${CHANGE_RISKS.map((r) => html`<option value=${r}>${label(r)}</option>`)}</select></div>
            <div class="field"><label for="t-start">Planned start</label><input id="t-start" type="datetime-local" value=${form.plannedStart} onInput=${set("plannedStart")} /></div>
            <div class="field"><label for="t-end">Planned end</label><input id="t-end" type="datetime-local" value=${form.plannedEnd} onInput=${set("plannedEnd")} aria-describedby=${windowWrong ? "t-end-error" : undefined} /></div>`
        : null}
    </div>
    ${windowWrong ? html`<p id="t-end-error" class="form-error">The planned end must be after the planned start.</p>` : null}
    ${form.type === "problem"
      ? html`<div class="grid2">
          <div class="field"><label for="t-root-cause">Root cause</label><textarea id="t-root-cause" rows="2" maxlength="4000" value=${form.rootCause} onInput=${set("rootCause")}></textarea></div>
          <div class="field"><label for="t-workaround">Workaround</label><textarea id="t-workaround" rows="2" maxlength="4000" value=${form.workaround} onInput=${set("workaround")}></textarea></div>
        </div>
        <label class="check"><input id="t-known-error" type="checkbox" checked=${form.knownError} onChange=${(e: Event) => setForm({ ...form, knownError: (e.target as HTMLInputElement).checked })} /> Known error (needs a workaround)</label>`
      : null}
    <div class="field"><label for="t-description">Description</label><textarea id="t-description" rows="3" value=${form.description} onInput=${set("description")}></textarea></div>
    ${create.error ? html`<p class="form-error" role="alert">${describeError(create.error)}</p>` : null}
    <button type="submit" disabled=${create.busy || !form.title.trim() || Boolean(windowWrong) || knownWithout}>${create.busy ? "Creating…" : "Create ticket"}</button>
  </form>`;
}

/**
 * Edit or reassign a ticket: short description, impact and urgency (the priority follows), assignment
 * group and assignee (from the group's members). Sent with the version it was made on: when someone
 * else changed the ticket meanwhile, the API answers 409 and `onConflict` closes the editor and reloads.
 */
export function EditTicket({
  ticket,
  directory,
  groups,
  onSaved,
  onConflict,
  onCancel,
}: {
  ticket: Ticket;
  directory: Directory;
  groups: AssignmentGroup[];
  onSaved: (t: Ticket, message: string) => void;
  onConflict: (message: string) => void;
  onCancel: () => void;
}) {
  // The ticket as it was when the editing began: the edit is compared with it and sent with its
  // version, whatever live updates show meanwhile, so someone else's change is never overwritten.
  const [base] = useState(ticket);
  const [form, setForm] = useState({
    title: ticket.title,
    impact: String(ticket.impact),
    urgency: String(ticket.urgency),
    group: ticket.assignmentGroup ?? "",
    assignedTo: ticket.assignedTo ?? "",
  });
  const changes: Record<string, unknown> = {
    ...(form.title.trim() !== base.title ? { title: form.title.trim() } : {}),
    ...(Number(form.impact) !== base.impact ? { impact: Number(form.impact) } : {}),
    ...(Number(form.urgency) !== base.urgency ? { urgency: Number(form.urgency) } : {}),
    ...(form.group !== (base.assignmentGroup ?? "") ? { assignmentGroup: form.group || null } : {}),
    ...(form.assignedTo !== (base.assignedTo ?? "") ? { assignedTo: form.assignedTo || null } : {}),
  };
  const save = useAction(async () => {
    try {
      const updated = await api<Ticket>(`/tickets/${base.id}`, { method: "PATCH", body: { ...changes, version: base.version } });
      onSaved(updated, `${ticket.number} saved.`);
    } catch (error) {
      if (error instanceof ApiError && error.code === "concurrent_modification") {
        onConflict(`Someone else changed ${base.number} while you were editing, so your edit was not saved. The ticket has been reloaded with their changes: check it and edit again.`);
        return;
      }
      throw error;
    }
  });
  return html`<form id="edit-ticket" class="card form" aria-labelledby="edit-ticket-title" onSubmit=${(e: Event) => (e.preventDefault(), void save.run())}>
    <h2 id="edit-ticket-title">Edit ${ticket.number}</h2>
    <div class="grid3">
      <div class="field span2"><label for="e-title">Short description</label><input id="e-title" required maxlength="160" value=${form.title} onInput=${(e: Event) => setForm({ ...form, title: value(e) })} /></div>
      <${Level} id="e-impact" text="Impact" value=${form.impact} help=${IMPACTS} onChange=${(v: string) => setForm({ ...form, impact: v })} />
      <${Level} id="e-urgency" text="Urgency" value=${form.urgency} help=${URGENCIES} onChange=${(v: string) => setForm({ ...form, urgency: v })} />
      <${Assignment} prefix="e" directory=${directory} groups=${groups} group=${form.group} assignee=${form.assignedTo} onChange=${(group: string, assignedTo: string) => setForm({ ...form, group, assignedTo })} />
    </div>
    ${save.error ? html`<p class="form-error" role="alert">${describeError(save.error)}</p>` : null}
    <p class="row">
      <button type="submit" disabled=${save.busy || !form.title.trim() || Object.keys(changes).length === 0}>${save.busy ? "Saving…" : "Save changes"}</button>
      <button type="button" class="secondary" onClick=${onCancel}>Cancel</button>
    </p>
  </form>`;
}
