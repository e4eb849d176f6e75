import { createMeteringStore } from "../../../core/db/metering.repository";
import { lazy } from "./lazy";
import { table } from "./table";

/** Budget reservations, usage counters and cost records (the chat service, the reservation reconciler). */
export const metering = lazy(() => createMeteringStore(table().options));
