import { createRoutingAdmin } from "../../../core/chat/routing-admin";
import { createRoutingFeedback } from "../../../core/chat/routing-feedback";
import { createMeteringStore, createRoutingSettingsStore } from "../../../core/db/metering.repository";
import { createFeedbackStore } from "../../../core/db/routing-feedback.repository";
import { createCatalog } from "../../../core/models/catalog";
import { config } from "../config";
import { lazy } from "./lazy";
import { table } from "./table";

/** The model catalog (tiers, prices, which endpoints are configured). */
export const catalog = lazy(() => createCatalog(config().models));

/** The routing routes that call no model (settings, decisions, totals). */
export const routingAdmin = lazy(() => {
  const { options } = table();
  return createRoutingAdmin({ metering: createMeteringStore(options), settings: createRoutingSettingsStore(options) });
});

/** Feedback on completions (no model, no router weights). */
export const routingFeedback = lazy(() => createRoutingFeedback({ feedback: createFeedbackStore(table().options) }));
