import { Logger } from "@aws-lambda-powertools/logger";

/**
 * Structured JSON logs (one object per line). Every line of a request carries its `requestId`
 * (appended by the handler wrappers). Level from POWERTOOLS_LOG_LEVEL (default INFO).
 */
export const logger = new Logger({ serviceName: "agentorg" });
