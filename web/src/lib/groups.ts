import { api, type Page } from "./client";
import type { AssignmentGroup } from "./tickets";

/**
 * The organization's assignment groups, by name (one page of up to 100: a console picks from them).
 * Apart from lib/tickets.ts, which stays free of the API client so that node tests can import it.
 */
export async function loadGroups(signal?: AbortSignal): Promise<AssignmentGroup[]> {
  const page = await api<Page<AssignmentGroup>>("/assignment-groups", { query: { limit: 100 }, signal });
  return page.items.sort((a, b) => a.name.localeCompare(b.name));
}
