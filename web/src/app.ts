import type { ComponentType } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { ErrorNote, Loading } from "./components/ui";
import { html } from "./lib/html";
import { AppContext } from "./lib/hooks";
import { Realtime, type LiveStatus } from "./lib/realtime";
import { currentRoute, href, navigate, useRoute } from "./lib/router";
import { signIn, signOut, storedKey, type Session } from "./lib/session";
import { SignIn } from "./views/sign-in";

type ViewProps = { route: string[] };
type Loader = (role?: Session["role"]) => Promise<{ default: ComponentType<ViewProps> }>;

/**
 * Each view is its own chunk, loaded on first visit: the first paint needs only the shell. `nav` lists
 * the roles whose navigation shows the view (default: every role in `roles`).
 */
const VIEWS: Record<string, { title: string; load: Loader; roles: Session["role"][]; nav?: Session["role"][] }> = {
  agents: { title: "Agents", load: () => import("./views/agents"), roles: ["org"] },
  chat: { title: "Chat", load: () => import("./views/chat"), roles: ["org"] },
  messages: { title: "Messages", load: () => import("./views/messages"), roles: ["org"] },
  work: { title: "Work", load: () => import("./views/work"), roles: ["org"] },
  approvals: { title: "Approvals", load: () => import("./views/approvals"), roles: ["org"] },
  // An operator who opens #/tickets learns that tickets belong to an organization, and picks one.
  tickets: { title: "Tickets", load: (role) => (role === "operator" ? import("./views/tickets-operator") : import("./views/tickets")), roles: ["org", "operator"], nav: ["org"] },
  audit: { title: "Audit log", load: () => import("./views/audit"), roles: ["org", "operator"] },
  cost: { title: "Cost", load: () => import("./views/cost"), roles: ["org", "operator"] },
  organizations: { title: "Organizations", load: () => import("./views/organizations"), roles: ["org", "operator"] },
};

const loaded = new Map<string, ComponentType<ViewProps>>();

// Returning with a key kept for this tab: fetch the page's chunk while the key is being checked.
const first = currentRoute()[0];
if (storedKey() && first && VIEWS[first]) void VIEWS[first].load().catch(() => undefined);

function LazyView({ name, route, role }: { name: string; route: string[]; role: Session["role"] }) {
  const [, setVersion] = useState(0);
  const [error, setError] = useState<unknown>(undefined);
  const id = `${role}:${name}`;
  const View = loaded.get(id);
  useEffect(() => {
    if (View) return;
    let live = true;
    VIEWS[name]!.load(role)
      .then((module) => {
        loaded.set(id, module.default);
        if (live) setVersion((v) => v + 1);
      })
      .catch((e) => live && setError(e));
    return () => {
      live = false;
    };
  }, [id, View]);
  if (error) return html`<${ErrorNote} error=${error} title="This page could not be loaded." retry=${() => location.reload()} />`;
  if (!View) return html`<${Loading} label="Loading the page…" />`;
  return html`<${View} route=${route} />`;
}

function LiveIndicator({ realtime }: { realtime: Realtime | null }) {
  const [status, setStatus] = useState<LiveStatus>(realtime?.status ?? "offline");
  useEffect(() => {
    if (!realtime) return;
    setStatus(realtime.status);
    return realtime.onStatus(setStatus);
  }, [realtime]);
  if (!realtime) return null;
  const text = { connecting: "Connecting…", live: "Live", offline: "Reconnecting…", stopped: "Offline: key refused" }[status];
  return html`<span class=${`live ${status}`} title="Real-time updates over WebSocket"><span class="dot" aria-hidden="true"></span>${text}</span>`;
}

function Shell({ session, onSignOut }: { session: Session; onSignOut: () => void }) {
  const route = useRoute();
  const realtime = useMemo(() => (session.role === "org" ? new Realtime() : null), [session]);
  useEffect(() => () => realtime?.close(), [realtime]);
  const home = session.role === "org" ? "agents" : "organizations";
  const name = route[0] && VIEWS[route[0]]?.roles.includes(session.role) ? route[0] : null;
  useEffect(() => {
    if (!name) navigate(home);
  }, [name, home]);
  useEffect(() => {
    document.title = `${name ? VIEWS[name]!.title : "Dashboard"} · agentorg`;
  }, [name]);
  const state = useMemo(() => ({ session, realtime }), [session, realtime]);
  const links = Object.entries(VIEWS).filter(([, view]) => (view.nav ?? view.roles).includes(session.role));
  // The operator's home comes first.
  if (session.role === "operator") links.sort(([a], [b]) => Number(b === home) - Number(a === home));
  return html`<${AppContext.Provider} value=${state}>
    <a class="skip" href="#main">Skip to content</a>
    <header class="topbar">
      <a class="brand" href=${href(home)}>agentorg</a>
      <nav aria-label="Main">
        <ul>
          ${links.map(
            ([id, view]) => html`<li key=${id}><a href=${href(id)} aria-current=${name === id ? "page" : undefined}>${id === "organizations" && session.role === "org" ? "Organization" : view.title}</a></li>`,
          )}
        </ul>
      </nav>
      <div class="who">
        <${LiveIndicator} realtime=${realtime} />
        <span class="identity">${session.role === "operator" ? "Operator" : session.org?.name}</span>
        <button type="button" class="secondary small" onClick=${onSignOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">${name ? html`<${LazyView} key=${`${session.role}:${name}`} name=${name} route=${route} role=${session.role} />` : html`<${Loading} />`}</main>
  <//>`;
}

export function App() {
  const [session, setSession] = useState<Session | null>(null);
  const [restoring, setRestoring] = useState(() => storedKey() !== null);
  const [restoreError, setRestoreError] = useState<string | null>(null);
  useEffect(() => {
    const key = storedKey();
    if (!key) return;
    signIn(key)
      .then(setSession)
      .catch((error: Error) => {
        signOut();
        setRestoreError(error.message);
      })
      .finally(() => setRestoring(false));
  }, []);
  if (restoring) return html`<main id="main" class="centered"><${Loading} label="Signing in…" /></main>`;
  if (!session) return html`<${SignIn} initialError=${restoreError} onSignedIn=${setSession} />`;
  return html`<${Shell}
    session=${session}
    onSignOut=${() => {
      signOut();
      setSession(null);
      history.replaceState(null, "", location.pathname);
    }}
  />`;
}
