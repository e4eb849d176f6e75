import { API_URL } from "../api";

/** An RFC 9457 problem, as every 4xx and 5xx of the API is. */
export interface Problem {
  status: number;
  title?: string;
  code?: string;
  detail?: string;
  errors?: { field: string; in?: string; message: string }[];
  requestId?: string;
  [extra: string]: unknown;
}

/** A failed API call: the problem the API answered, or status 0 when it could not be reached. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail ?? problem.title ?? `HTTP ${problem.status}`);
    this.name = "ApiError";
  }
  get status(): number {
    return this.problem.status;
  }
  get code(): string | undefined {
    return this.problem.code;
  }
}

/** A one-line, human explanation of any error, with the offending fields of a validation error. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = (error.problem.errors ?? []).map((e) => `${e.field}: ${e.message}`).join("; ");
    return fields ? `${error.message} (${fields})` : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  method?: string;
  body?: unknown;
  query?: Query;
  signal?: AbortSignal;
  /** Defaults to the signed-in key. */
  key?: string;
}

let sessionKey: string | null = null;

/** The key sent as `Authorization: Bearer` with every call. */
export function useKey(key: string | null): void {
  sessionKey = key;
}

export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

async function send(path: string, options: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { accept: "application/json" };
  const key = options.key ?? sessionKey;
  if (key) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  try {
    return await fetch(`${API_URL}/api/v1${path}${queryString(options.query)}`, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiError({ status: 0, code: "network_error", detail: "The API could not be reached. Check your connection and try again." });
  }
}

async function failure(response: Response): Promise<ApiError> {
  let problem: Problem = { status: response.status, detail: `The API answered ${response.status} ${response.statusText}.` };
  try {
    const body = (await response.json()) as Problem;
    if (body && typeof body === "object") problem = { ...problem, ...body, status: response.status };
  } catch {
    // Not JSON (a proxy's error page): keep the generic problem.
  }
  return new ApiError(problem);
}

/** One JSON call to the platform's API (`/api/v1` + path); a non-2xx answer throws an {@link ApiError}. */
export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

/** Like {@link api}, for a text answer (the audit export, JSON Lines). */
export async function apiText(path: string, options: RequestOptions = {}): Promise<string> {
  const response = await send(path, options);
  if (!response.ok) throw await failure(response);
  return response.text();
}

/** A page of a cursor-paginated list. */
export interface Page<T> {
  items: T[];
  cursor?: string;
}

/** Every organization the operator can list, a page of 100 at a time, up to `max` (a bound for the console's views). */
export async function listOrganizations<T>(signal: AbortSignal, max = 1000): Promise<T[]> {
  const orgs: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await api<Page<T>>("/organizations", { query: { limit: 100, cursor }, signal });
    orgs.push(...page.items);
    cursor = page.cursor;
  } while (cursor && orgs.length < max);
  return orgs;
}
