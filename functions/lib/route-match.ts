/** What matching needs of a route: its method and API Gateway path (`/api/v1/organizations/{id}`). */
export interface RouteKey {
  method: string;
  path: string;
}

interface Compiled<R extends RouteKey> {
  route: R;
  pattern: RegExp;
  names: string[];
}

/** `/api/v1/organizations/{id}` -> a regex capturing `id` (one path segment), names in order. */
function compile<R extends RouteKey>(route: R): Compiled<R> {
  const names: string[] = [];
  const source = route.path
    .split("/")
    .map((segment) => {
      const param = /^\{(\w+)\}$/.exec(segment);
      if (!param) return segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      names.push(param[1]!);
      return "([^/]+)";
    })
    .join("/");
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/**
 * API Gateway's matching over a list of routes: the local gateway's over the manifest, the `$default`
 * function's over the route table (functions/manifest/route-table.ts, methods and paths only, so the
 * 404/405 function does not load every route's schemas).
 */
export function createRouteMatcher<R extends RouteKey>(routes: readonly R[]) {
  const compiled = routes.map(compile);
  return {
    /** The route for a method and path, with its decoded path parameters. */
    match(method: string, path: string): { route: R; params: Record<string, string> } | undefined {
      for (const { route, pattern, names } of compiled) {
        if (route.method !== method) continue;
        const match = pattern.exec(path);
        if (!match) continue;
        const params: Record<string, string> = {};
        names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1]!)));
        return { route, params };
      }
      return undefined;
    },
    /** Methods declared for a path (for 405 and CORS preflight). */
    allowedMethods: (path: string): string[] => compiled.filter(({ pattern }) => pattern.test(path)).map(({ route }) => route.method),
  };
}
