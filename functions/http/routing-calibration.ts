import { actorOf } from "../../core/auth/principal";
import { http } from "../lib/http";
import { feedbackCalibrator } from "../lib/services/routing-calibration";
import { routingRoutes as routes } from "../manifest/routing";

/**
 * The threshold calibration from an organization's feedback: apart from the other routing routes
 * because it needs the router's calibration curve (the threshold in force may be read off it).
 */
export const calibrateFromFeedback = http(routes.calibrateFromFeedback, ({ principal, body }) =>
  feedbackCalibrator().calibrate(principal, { ...(body.dryRun !== undefined ? { dryRun: body.dryRun } : {}) }, actorOf(principal)),
);
