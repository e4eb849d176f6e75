import { API_URL, WS_URL } from "./api";

interface Health {
  status: string;
  service: string;
  version: string;
  time: string;
}

const rows = document.querySelector<HTMLTableSectionElement>("#status")!;

function row(name: string, value: string, ok?: boolean): HTMLTableRowElement {
  const tr = document.createElement("tr");
  const th = document.createElement("td");
  th.textContent = name;
  const td = document.createElement("td");
  td.textContent = value;
  if (ok !== undefined) td.className = ok ? "ok" : "bad";
  tr.append(th, td);
  return tr;
}

async function main(): Promise<void> {
  const api = `${API_URL}/api/v1`;
  try {
    const response = await fetch(`${api}/health`);
    const health = (await response.json()) as Health;
    rows.replaceChildren(
      row("HTTP API", `${location.origin}${api}/ — ${health.status} (version ${health.version})`, response.ok),
      row("WebSocket", WS_URL),
      row("API reference", `${location.origin}/docs/ (OpenAPI 3.1 at ${api}/openapi.json)`),
      row("Checked at", new Date(health.time).toLocaleString()),
    );
  } catch (error) {
    rows.replaceChildren(row("HTTP API", `not reachable: ${(error as Error).message}`, false));
  }
}

void main();
