import { createDocumentClient } from "../../../core/db/client";
import { createCursorCodec } from "../../../core/db/cursor";
import { createTablePing } from "../../../core/db/health.repository";
import { config } from "../config";
import { lazy } from "./lazy";

/** The table: its document client and the options every repository takes. */
export const table = lazy(
  () => {
    const cfg = config();
    const client = createDocumentClient({ region: cfg.region, ...(cfg.dynamoDbEndpoint ? { endpoint: cfg.dynamoDbEndpoint } : {}) });
    return { config: cfg, client, options: { client, table: cfg.tableName, cursors: createCursorCodec(cfg.cursorSecret) } };
  },
  ({ client }) => client.destroy(),
);

/** /health's DynamoDB check. */
export const pingTable = lazy(() => createTablePing(table().options));
