import { createContext } from "preact";
import { useCallback, useContext, useEffect, useRef, useState } from "preact/hooks";
import type { OrgEvent, Realtime } from "./realtime";
import type { Session } from "./session";

export interface AppState {
  session: Session;
  /** The live connection (organization keys only; the operator has no WebSocket). */
  realtime: Realtime | null;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const state = useContext(AppContext);
  if (!state) throw new Error("useApp outside the signed-in app");
  return state;
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again; keeps the current data on screen meanwhile. */
  reload(): void;
  set(update: (current: T | undefined) => T | undefined): void;
}

/** Loads data for a view, with loading and error states; a newer load wins over an older one. */
export function useResource<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    loadRef
      .current(controller.signal)
      .then((data) => !controller.signal.aborted && setState({ data, error: undefined, loading: false }))
      .catch((error) => !controller.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })));
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  const set = useCallback((update: (current: T | undefined) => T | undefined) => setState((s) => ({ ...s, data: update(s.data) })), []);
  return { ...state, reload, set };
}

/** Runs `handler` for organization events whose type starts with one of `prefixes`. */
export function useEvents(prefixes: string[], handler: (event: OrgEvent) => void): void {
  const { realtime } = useApp();
  const ref = useRef(handler);
  ref.current = handler;
  const key = prefixes.join(",");
  useEffect(() => {
    if (!realtime) return;
    return realtime.on((event) => {
      if (prefixes.some((p) => event.type.startsWith(p))) ref.current(event);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [realtime, key]);
}

/** Calls `fn` at most once per `ms` after the last call (bursts of events become one reload). */
export function useDebounced(fn: () => void, ms: number): () => void {
  const ref = useRef(fn);
  ref.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    clearTimeout(timer.current);
    timer.current = setTimeout(() => ref.current(), ms);
  }, [ms]);
}

/** Runs an action with a busy flag and its error, for forms and buttons. */
export function useAction<A extends unknown[], R>(action: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const ref = useRef(action);
  ref.current = action;
  const run = useCallback(async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(undefined);
    try {
      return await ref.current(...args);
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  }, []);
  return { run, busy, error, clearError: () => setError(undefined) };
}
