import { http } from "../lib/http";
import { openApiDocument } from "../lib/openapi";
import { platformRoutes as routes } from "../manifest/platform";

let document: ReturnType<typeof openApiDocument> | undefined;

// Built once per warm instance: the document is a pure function of the manifest.
export const handler = http(routes.openapi, () => (document ??= openApiDocument()));
