import { useEffect, useState } from "preact/hooks";
import { Badge, Empty, ErrorNote, Loading, Notice, PageHeader } from "../components/ui";
import { agentName, LEVEL_NAMES, loadDirectory, type AgentRecord, type Directory, type HierarchyNode } from "../lib/agents";
import { api, describeError } from "../lib/client";
import { label } from "../lib/format";
import { html } from "../lib/html";
import { useAction, useDebounced, useEvents, useResource } from "../lib/hooks";
import { href, navigate } from "../lib/router";

interface Data {
  tree: { roots: HierarchyNode[]; agents: number };
  directory: Directory;
}

const value = (e: Event) => (e.target as HTMLInputElement | HTMLSelectElement).value;

/** The collapsible tree: a disclosure button per manager, the agent's name selects it. */
function TreeNode({ node, selected, collapsed, toggle }: { node: HierarchyNode; selected: string | null; collapsed: Set<string>; toggle: (id: string) => void }) {
  const open = !collapsed.has(node.id);
  const hasReports = node.reports.length > 0;
  return html`<li class="tree-item" data-agent=${node.name}>
    <div class=${`tree-row level-${node.level}${selected === node.id ? " selected" : ""}`}>
      ${hasReports
        ? html`<button type="button" class="toggle" aria-expanded=${open} aria-label=${`${open ? "Collapse" : "Expand"} ${node.name}'s reports`} onClick=${() => toggle(node.id)}>${open ? "▾" : "▸"}</button>`
        : html`<span class="toggle-spacer" aria-hidden="true"></span>`}
      <a class="tree-name" href=${href("agents", node.id)} aria-current=${selected === node.id ? "true" : undefined}>${node.name}</a>
      ${node.roleName !== node.levelName ? html`<span class="tree-role">${node.roleName}</span>` : null}
      <span class=${`level-chip l${node.level}`} title=${`Level ${node.level}`}>${node.levelName}</span>
      ${node.status === "paused" ? html`<${Badge} tone="warn">paused<//>` : null}
      <span class=${`queued${node.queuedMessages ? " some" : ""}`} aria-label=${`${node.queuedMessages} queued messages`}>${node.queuedMessages} queued</span>
    </div>
    ${hasReports && open
      ? html`<ul class="tree-children">${node.reports.map((r) => html`<${TreeNode} key=${r.id} node=${r} selected=${selected} collapsed=${collapsed} toggle=${toggle} />`)}</ul>`
      : null}
  </li>`;
}

function managersFor(directory: Directory, level: number, exclude?: string): AgentRecord[] {
  return directory.agents.filter((a) => a.level < level && a.id !== exclude);
}

function CreateAgent({ directory, onCreated }: { directory: Directory; onCreated: (agent: AgentRecord) => void }) {
  const [name, setName] = useState("");
  const [roleId, setRoleId] = useState("");
  const [managerId, setManagerId] = useState("");
  const [routing, setRouting] = useState("auto");
  const role = directory.roles.find((r) => r.id === roleId);
  const managers = role ? managersFor(directory, role.level) : [];
  const hasRoot = directory.agents.some((a) => a.managerId === null);
  useEffect(() => {
    if (!role) return;
    if (!managers.some((m) => m.id === managerId)) setManagerId(role.level === 1 ? "" : (managers[managers.length - 1]?.id ?? ""));
  }, [roleId]);
  const create = useAction(async () => {
    const agent = await api<AgentRecord>("/agents", { method: "POST", body: { name, roleId, managerId: managerId || null, routing } });
    setName("");
    onCreated(agent);
  });
  return html`<form class="card form" aria-labelledby="new-agent-title" onSubmit=${(e: Event) => (e.preventDefault(), void create.run())}>
    <h2 id="new-agent-title">New agent</h2>
    <div class="grid2">
      <div class="field"><label for="agent-name">Name</label><input id="agent-name" required maxlength="80" value=${name} onInput=${(e: Event) => setName(value(e))} /></div>
      <div class="field">
        <label for="agent-role">Role</label>
        <select id="agent-role" required value=${roleId} onChange=${(e: Event) => setRoleId(value(e))}>
          <option value="" disabled>Choose a role</option>
          ${[1, 2, 3, 4, 5].map(
            (level) => html`<optgroup label=${`Level ${level}: ${LEVEL_NAMES[level]}`}>
              ${directory.roles.filter((r) => r.level === level).map((r) => html`<option value=${r.id}>${r.name}</option>`)}
            </optgroup>`,
          )}
        </select>
      </div>
      <div class="field">
        <label for="agent-manager">Manager</label>
        <select id="agent-manager" value=${managerId} onChange=${(e: Event) => setManagerId(value(e))} disabled=${!role}>
          ${role?.level === 1 ? html`<option value="">None: the organization's root${hasRoot ? " (one exists already)" : ""}</option>` : null}
          ${!role ? html`<option value="">Choose a role first</option>` : null}
          ${role && role.level > 1 && managers.length === 0 ? html`<option value="">No agent of a higher level yet</option>` : null}
          ${managers.map((m) => html`<option value=${m.id}>${m.name} (${LEVEL_NAMES[m.level]})</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="agent-routing">Model routing</label>
        <select id="agent-routing" value=${routing} onChange=${(e: Event) => setRouting(value(e))}>
          <option value="auto">Auto: SLM or LLM per query</option>
          <option value="off">Off: the role's fixed tier</option>
        </select>
      </div>
    </div>
    ${create.error ? html`<p class="form-error" role="alert">${describeError(create.error)}</p>` : null}
    <div class="row"><button type="submit" disabled=${create.busy || !name.trim() || !roleId}>${create.busy ? "Creating…" : "Create agent"}</button></div>
  </form>`;
}

function AgentPanel({ agent, directory, onChanged, onDeleted }: { agent: AgentRecord; directory: Directory; onChanged: (message: string) => void; onDeleted: (message: string) => void }) {
  const reports = directory.agents.filter((a) => a.managerId === agent.id);
  // Reports need a new manager of a higher level than each of them (the API refuses one inside the subtree).
  const heirOptions = directory.agents.filter((a) => a.id !== agent.id && a.level < Math.min(...reports.map((r) => r.level), 6));
  const defaultHeir = agent.managerId ?? heirOptions[0]?.id ?? "";
  const [name, setName] = useState(agent.name);
  const [status, setStatus] = useState(agent.status);
  const [routing, setRouting] = useState(agent.routing);
  const [manager, setManager] = useState(agent.managerId ?? "");
  const [reportsTo, setReportsTo] = useState("self");
  const [heirs, setHeirs] = useState(defaultHeir);
  const [confirming, setConfirming] = useState(false);
  const role = directory.roles.find((r) => r.id === agent.roleId);
  const save = useAction(async () => {
    await api(`/agents/${agent.id}`, { method: "PATCH", body: { name, status, routing } });
    onChanged(`Saved ${name}.`);
  });
  const move = useAction(async () => {
    await api(`/agents/${agent.id}`, { method: "PATCH", body: { managerId: manager || null, ...(reports.length ? { reassignReportsTo: reportsTo } : {}) } });
    onChanged(`Moved ${agent.name} under ${agentName(directory, manager)}.`);
  });
  const remove = useAction(async () => {
    await api(`/agents/${agent.id}`, { method: "DELETE", query: { reassignReportsTo: reports.length ? heirs : undefined } });
    onDeleted(`Deleted ${agent.name}${reports.length ? `; its reports now report to ${agentName(directory, heirs)}` : ""}.`);
  });
  const managers = managersFor(directory, agent.level, agent.id);
  return html`<section class="card" aria-labelledby="agent-title">
    <h2 id="agent-title">${agent.name}</h2>
    <dl class="facts">
      <dt>Role</dt><dd>${role?.name ?? agent.roleId}</dd>
      <dt>Level</dt><dd>${agent.level} · ${LEVEL_NAMES[agent.level]}</dd>
      <dt>Manager</dt><dd>${agentName(directory, agent.managerId)}</dd>
      <dt>Direct reports</dt><dd>${reports.length ? reports.map((r) => r.name).join(", ") : "none"}</dd>
      <dt>Model policy</dt><dd>${agent.routing === "auto" ? (role?.modelPolicy.routing === "fixed" ? `role pins the ${role.modelPolicy.tier?.toUpperCase()}` : "routed per query") : "routing off"}</dd>
    </dl>
    <p class="row"><a class="button secondary" href=${href("chat", agent.id)}>Chat with ${agent.name}</a><a class="button secondary" href=${href("messages", agent.id)}>Inbox</a></p>

    <form class="form subform" aria-labelledby="edit-title" onSubmit=${(e: Event) => (e.preventDefault(), void save.run())}>
      <h3 id="edit-title">Edit</h3>
      <div class="grid3">
        <div class="field"><label for="edit-name">Name</label><input id="edit-name" required maxlength="80" value=${name} onInput=${(e: Event) => setName(value(e))} /></div>
        <div class="field"><label for="edit-status">Status</label><select id="edit-status" value=${status} onChange=${(e: Event) => setStatus(value(e) as typeof status)}><option value="active">Active</option><option value="paused">Paused</option></select></div>
        <div class="field"><label for="edit-routing">Routing</label><select id="edit-routing" value=${routing} onChange=${(e: Event) => setRouting(value(e) as typeof routing)}><option value="auto">Auto</option><option value="off">Off</option></select></div>
      </div>
      ${save.error ? html`<p class="form-error" role="alert">${describeError(save.error)}</p>` : null}
      <button type="submit" disabled=${save.busy}>${save.busy ? "Saving…" : "Save changes"}</button>
    </form>

    <form class="form subform" aria-labelledby="move-title" onSubmit=${(e: Event) => (e.preventDefault(), void move.run())}>
      <h3 id="move-title">Move</h3>
      <div class="grid2">
        <div class="field">
          <label for="move-manager">New manager</label>
          <select id="move-manager" value=${manager} onChange=${(e: Event) => setManager(value(e))}>
            ${agent.level === 1 ? html`<option value="">None (root)</option>` : null}
            ${managers.map((m) => html`<option value=${m.id}>${m.name} (${LEVEL_NAMES[m.level]})</option>`)}
          </select>
        </div>
        ${reports.length
          ? html`<div class="field">
              <label for="move-reports">Its ${reports.length} report(s)</label>
              <select id="move-reports" value=${reportsTo} onChange=${(e: Event) => setReportsTo(value(e))}>
                <option value="self">Move with ${agent.name}</option>
                ${heirOptions.map((m) => html`<option value=${m.id}>Stay, reporting to ${m.name}</option>`)}
              </select>
            </div>`
          : null}
      </div>
      ${move.error ? html`<p class="form-error" role="alert">${describeError(move.error)}</p>` : null}
      <button type="submit" class="secondary" disabled=${move.busy || manager === (agent.managerId ?? "")}>${move.busy ? "Moving…" : "Move agent"}</button>
    </form>

    <form class="form subform danger-zone" aria-labelledby="delete-title" onSubmit=${(e: Event) => {
      e.preventDefault();
      if (!confirming) setConfirming(true);
      else void remove.run();
    }}>
      <h3 id="delete-title">Delete</h3>
      ${reports.length
        ? html`<div class="field">
            <label for="delete-heir">Reassign its ${reports.length} report(s) to</label>
            <select id="delete-heir" value=${heirs} onChange=${(e: Event) => setHeirs(value(e))}>
              ${heirOptions.map((m) => html`<option value=${m.id}>${m.name} (${LEVEL_NAMES[m.level]})</option>`)}
            </select>
          </div>`
        : html`<p class="hint">${agent.name} has no reports.</p>`}
      ${remove.error ? html`<p class="form-error" role="alert">${describeError(remove.error)}</p>` : null}
      <div class="row">
        <button type="submit" class="danger" disabled=${remove.busy}>${confirming ? `Confirm: delete ${agent.name}` : "Delete agent"}</button>
        ${confirming ? html`<button type="button" class="secondary" onClick=${() => setConfirming(false)}>Cancel</button>` : null}
      </div>
    </form>
  </section>`;
}

function collectIds(nodes: HierarchyNode[]): string[] {
  return nodes.flatMap((n) => (n.reports.length ? [n.id, ...collectIds(n.reports)] : []));
}

export default function AgentsView({ route }: { route: string[] }) {
  const selected = route[1] ?? null;
  const data = useResource<Data>(async (signal) => {
    const [tree, directory] = await Promise.all([api<Data["tree"]>("/hierarchy", { signal }), loadDirectory(signal)]);
    return { tree, directory };
  }, []);
  const [collapsed, setCollapsed] = useState<Set<string>>(new Set());
  const [creating, setCreating] = useState(false);
  const [notice, setNotice] = useState<string | null>(null);
  const refresh = useDebounced(data.reload, 300);
  useEvents(["message."], refresh);
  const toggle = (id: string) =>
    setCollapsed((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });
  const d = data.data;
  const agent = selected ? d?.directory.byId.get(selected) : undefined;
  return html`<div class="view">
    <${PageHeader} title="Agents">
      <button type="button" aria-expanded=${creating} aria-controls="new-agent" onClick=${() => setCreating(!creating)}>${creating ? "Close form" : "New agent"}</button>
    <//>
    <${Notice} message=${notice} />
    ${creating && d
      ? html`<div id="new-agent"><${CreateAgent}
          directory=${d.directory}
          onCreated=${(a: AgentRecord) => {
            setNotice(`Created ${a.name} under ${agentName(d.directory, a.managerId)}.`);
            setCreating(false);
            data.reload();
            navigate("agents", a.id);
          }}
        /></div>`
      : null}
    ${data.error ? html`<${ErrorNote} error=${data.error} retry=${data.reload} title="The agents could not be loaded." />` : null}
    ${!d && data.loading ? html`<${Loading} label="Loading the hierarchy…" />` : null}
    ${d
      ? html`<div class="split">
          <section class="card tree-card" aria-labelledby="tree-title">
            <div class="card-head">
              <h2 id="tree-title">Hierarchy <span class="muted">(${d.tree.agents} agents)</span></h2>
              <div class="row">
                <button type="button" class="secondary small" onClick=${() => setCollapsed(new Set())}>Expand all</button>
                <button type="button" class="secondary small" onClick=${() => setCollapsed(new Set(collectIds(d.tree.roots)))}>Collapse all</button>
              </div>
            </div>
            <p class="legend" aria-label="Levels">${[1, 2, 3, 4, 5].map((l) => html`<span class=${`level-chip l${l}`}>${l} ${LEVEL_NAMES[l]}</span>`)}</p>
            ${d.tree.roots.length
              ? html`<ul class="tree" aria-label="Agent hierarchy">${d.tree.roots.map((n) => html`<${TreeNode} key=${n.id} node=${n} selected=${selected} collapsed=${collapsed} toggle=${toggle} />`)}</ul>`
              : html`<${Empty}>No agents yet. Start with a CEO: choose <strong>New agent</strong>, role CEO.<//>`}
          </section>
          <div class="detail">
            ${agent
              ? html`<${AgentPanel}
                  key=${agent.id}
                  agent=${agent}
                  directory=${d.directory}
                  onChanged=${(m: string) => (setNotice(m), data.reload())}
                  onDeleted=${(m: string) => (setNotice(m), data.reload(), navigate("agents"))}
                />`
              : selected && !data.loading
                ? html`<${Empty}>That agent no longer exists.<//>`
                : html`<${Empty}>Select an agent in the tree to see, edit, move or delete it.<//>`}
          </div>
        </div>`
      : null}
  </div>`;
}
