import { openApiDocument } from "../functions/lib/openapi";

/** `npm run --silent openapi > openapi.json`: the document, without starting anything. */
console.log(JSON.stringify(openApiDocument(), null, 2));
