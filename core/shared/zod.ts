import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

// zod 4 attaches methods to each schema when it is created, so the OpenAPI extension must be in place
// before any schema exists: every schema module imports `z` from here, never from "zod" directly.
extendZodWithOpenApi(z);

export { z };
