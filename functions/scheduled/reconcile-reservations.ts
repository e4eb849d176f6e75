import { reconcileReservations } from "../../core/metering/reconciler";
import { timeLeft } from "../../core/shared/deadline";
import { deadlineOf, type InvocationContext } from "../lib/invocation";
import { logger } from "../lib/logger";
import { metering } from "../lib/services/metering";

/**
 * The scheduled reconciler of budget reservations (functions/manifest/metering.ts): releases those
 * left open past their expiry by invocations that died, within this invocation's remaining time.
 */
export async function handler(_event: unknown, context?: InvocationContext) {
  const deadline = deadlineOf(context);
  const report = await reconcileReservations({ metering: metering(), remainingMs: () => timeLeft(deadline) });
  // An operator sees leaks as they are repaired: each one is an invocation that died holding budget.
  if (report.released || report.alreadyClosed || !report.complete) logger.info("reservations reconciled", { ...report });
  return report;
}
