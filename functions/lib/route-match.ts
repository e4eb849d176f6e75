import type { HttpRouteSpec } from "../manifest.types";
import { httpRoutes } from "../routes";

interface Compiled {
  route: HttpRouteSpec;
  pattern: RegExp;
  names: string[];
}

/** `/api/v1/organizations/{id}` -> a regex capturing `id` (one path segment), names in order. */
function compile(route: HttpRouteSpec): Compiled {
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

const compiled: Compiled[] = httpRoutes.map(compile);

/** The manifest route for a method and path, with its decoded path parameters; API Gateway's matching. */
export function matchRoute(
  method: string,
  path: string,
): { route: HttpRouteSpec; params: Record<string, string> } | undefined {
  for (const { route, pattern, names } of compiled) {
    if (route.method !== method) continue;
    const match = pattern.exec(path);
    if (!match) continue;
    const params: Record<string, string> = {};
    names.forEach((name, i) => (params[name] = decodeURIComponent(match[i + 1]!)));
    return { route, params };
  }
  return undefined;
}

/** Methods declared for a path (for 405 and CORS preflight). */
export const allowedMethods = (path: string): string[] =>
  compiled.filter(({ pattern }) => pattern.test(path)).map(({ route }) => route.method);
