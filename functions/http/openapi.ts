import { http } from "../lib/http";
import { openApiDocument } from "../lib/openapi";
import * as routes from "../routes";

let document: ReturnType<typeof openApiDocument> | undefined;

// Built once per warm instance: the document is a pure function of the manifest.
export const handler = http(routes.http.openapi, () => (document ??= openApiDocument()));
