import { useState } from "preact/hooks";
import { html } from "../lib/html";
import { signIn, type Session } from "../lib/session";

/** Paste a key: kept in this tab's sessionStorage only; a refused key says so plainly. */
export function SignIn({ onSignedIn, initialError }: { onSignedIn: (session: Session) => void; initialError: string | null }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(initialError);
  const [busy, setBusy] = useState(false);
  const [shown, setShown] = useState(false);
  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await signIn(key));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }
  return html`<main id="main" class="signin">
    <form class="card signin-card" onSubmit=${submit} aria-labelledby="signin-title" novalidate>
      <p class="brand">agentorg</p>
      <h1 id="signin-title">Sign in</h1>
      <p class="muted">Paste an organization API key (<code>ao_…</code>) or the platform operator key.</p>
      <label for="api-key">API key</label>
      <div class="input-row">
        <input
          id="api-key"
          name="key"
          type=${shown ? "text" : "password"}
          autocomplete="off"
          spellcheck=${false}
          value=${key}
          onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)}
          aria-invalid=${error ? "true" : undefined}
          aria-describedby=${error ? "signin-error key-help" : "key-help"}
          required
        />
        <button type="button" class="secondary" aria-pressed=${shown} onClick=${() => setShown(!shown)}>${shown ? "Hide" : "Show"}</button>
      </div>
      <p id="key-help" class="hint">Kept for this browser tab only (session storage); closing the tab forgets it.</p>
      ${error ? html`<p id="signin-error" class="form-error" role="alert">${error}</p>` : null}
      <button type="submit" disabled=${busy}>${busy ? "Checking…" : "Sign in"}</button>
      <p class="hint">New here? <code>npm start</code> prints the operator key. <a href="/docs/">API reference</a></p>
    </form>
  </main>`;
}
