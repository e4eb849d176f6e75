import { http } from "../lib/http";
import { workRoutes as routes } from "../manifest/work";
import { workBoard } from "../lib/services/work-board";

export const listTasks = http(routes.listTasks, ({ principal, query }) =>
  workBoard().listTasks(principal, { limit: query.limit ?? 25, ...(query.status ? { status: query.status } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) }),
);
export const getSettings = http(routes.getWorkSettings, ({ principal }) => workBoard().settings(principal));
export const updateSettings = http(routes.updateWorkSettings, ({ principal, body }) => workBoard().updateSettings(principal, body));
