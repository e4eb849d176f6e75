import { useState } from "preact/hooks";
import type { Organization, OrganizationUsage } from "../../../core/tenants/organization.schema";
import { Empty, ErrorNote, Loading, PageHeader } from "../components/ui";
import { api, listOrganizations } from "../lib/client";
import { count } from "../lib/format";
import { html } from "../lib/html";
import { useResource } from "../lib/hooks";
import { href } from "../lib/router";

const value = (e: Event) => (e.target as HTMLSelectElement).value;

/** Active organizations, a page at a time up to a bound, for the picker. */
async function loadOrganizations(signal: AbortSignal): Promise<Organization[]> {
  const orgs = await listOrganizations<Organization>(signal);
  return orgs.filter((o) => o.status === "active").sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * `#/tickets` for the operator: tickets belong to an organization and are worked with its API key (the
 * operator key reads no tenant's tickets), so the page says so and leads to the chosen organization,
 * where a key can be created.
 */
export default function OperatorTicketsView() {
  const orgs = useResource((signal) => loadOrganizations(signal), []);
  const [picked, setPicked] = useState("");
  const chosen = orgs.data?.find((o) => o.id === picked) ?? orgs.data?.[0];
  const usage = useResource(
    async (signal) => (chosen ? api<OrganizationUsage>(`/organizations/${chosen.id}/usage`, { signal }).catch(() => null) : null),
    [chosen?.id],
  );
  return html`<div class="view">
    <${PageHeader} title="Tickets" />
    <section class="card" aria-labelledby="tickets-owner">
      <h2 id="tickets-owner">Tickets belong to an organization</h2>
      <p>Each organization works its own tickets with its own API key; the operator key does not read them. Pick an organization, open it, create an API key there and sign in with that key to see and work its tickets.</p>
      ${orgs.error ? html`<${ErrorNote} error=${orgs.error} retry=${orgs.reload} title="The organizations could not be loaded." />` : null}
      ${orgs.loading && !orgs.data ? html`<${Loading} label="Loading organizations…" />` : null}
      ${orgs.data && !orgs.data.length ? html`<${Empty}>No active organization yet: create one under <a href=${href("organizations")}>Organizations</a>.<//>` : null}
      ${orgs.data?.length && chosen
        ? html`<div class="toolbar">
            <label for="tickets-org">Organization</label>
            <select id="tickets-org" value=${chosen.id} onChange=${(e: Event) => setPicked(value(e))}>
              ${orgs.data.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
            </select>
            <a class="button" href=${href("organizations", chosen.id)}>Open ${chosen.name}</a>
          </div>
          ${usage.data ? html`<p class="muted">${chosen.name}: ${count(usage.data.tickets.used)} of ${count(usage.data.tickets.limit)} tickets this month.</p>` : null}`
        : null}
    </section>
  </div>`;
}
