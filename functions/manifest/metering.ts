import type { ScheduledFunctionSpec } from "../manifest.types";

/**
 * The reconciler of budget reservations left open by invocations that died between reserve and settle
 * (Lambda killed at its timeout, a crash): every few minutes it releases each reservation past its
 * expiry, exactly once (core/metering/reconciler.ts). It reads the usage index (Query on gsi1) and
 * updates usage items: `table:write` (which includes the reads).
 */
export const reservationReconciler = {
  name: "reservation-reconciler",
  handler: "functions/scheduled/reconcile-reservations.handler",
  everyMinutes: 5,
  timeoutSeconds: 60,
  permissions: ["table:write"],
} as const satisfies ScheduledFunctionSpec;
