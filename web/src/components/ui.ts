import type { ComponentChildren } from "preact";
import { describeError } from "../lib/client";
import { html } from "../lib/html";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return html`<p class="state loading" role="status"><span class="spinner" aria-hidden="true"></span>${label}</p>`;
}

/** An error with what to do next: retry when a load failed. */
export function ErrorNote({ error, retry, title }: { error: unknown; retry?: () => void; title?: string }) {
  if (!error) return null;
  return html`<div class="state error" role="alert">
    <p><strong>${title ?? "Something went wrong."}</strong> ${describeError(error)}</p>
    ${retry ? html`<button type="button" class="secondary" onClick=${retry}>Try again</button>` : null}
  </div>`;
}

export function Empty({ children }: { children: ComponentChildren }) {
  return html`<div class="state empty"><p>${children}</p></div>`;
}

/** A usage bar against a limit; turns amber past 75 % and red at the limit. */
export function Meter({ label, used, limit, format = String }: { label: string; used: number; limit: number; format?: (n: number) => string }) {
  const share = limit > 0 ? Math.min(1, used / limit) : 0;
  const level = share >= 1 ? "full" : share >= 0.75 ? "high" : "ok";
  return html`<div class="meter">
    <div class="meter-label"><span>${label}</span><span>${format(used)} / ${format(limit)}</span></div>
    <div class=${`meter-bar ${level}`} role="meter" aria-label=${label} aria-valuemin="0" aria-valuemax=${limit} aria-valuenow=${Math.min(used, limit)} aria-valuetext=${`${format(used)} of ${format(limit)}`}>
      <span style=${`width:${(share * 100).toFixed(1)}%`}></span>
    </div>
  </div>`;
}

export function Badge({ tone = "neutral", children }: { tone?: "neutral" | "good" | "warn" | "bad" | "info" | "llm" | "slm"; children: ComponentChildren }) {
  return html`<span class=${`badge ${tone}`}>${children}</span>`;
}

/** A short confirmation after an action, announced politely. */
export function Notice({ message }: { message: string | null }) {
  return html`<p class="notice" role="status" aria-live="polite">${message ?? ""}</p>`;
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  return html`<div class="page-header"><h1 id="page-title" tabindex="-1">${title}</h1>${children ? html`<div class="actions">${children}</div>` : null}</div>`;
}
