import { createFeedbackCalibrator } from "../../../core/chat/feedback-calibrator";
import { createMeteringStore, createRoutingSettingsStore } from "../../../core/db/metering.repository";
import { createFeedbackStore } from "../../../core/db/routing-feedback.repository";
import { access } from "./access";
import { lazy } from "./lazy";
import { table } from "./table";

/**
 * The threshold calibration from feedback. Its own composition (and function): it loads the routing
 * policy and with it the router's calibration curve, which the other routing routes do without.
 */
export const feedbackCalibrator = lazy(() => {
  const { options } = table();
  return createFeedbackCalibrator({
    feedback: createFeedbackStore(options),
    metering: createMeteringStore(options),
    settings: createRoutingSettingsStore(options),
    orgs: access().orgStore,
  });
});
