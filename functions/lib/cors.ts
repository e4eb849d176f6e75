/**
 * The API's CORS policy, one definition for the deployed HTTP API (stacks/api.ts) and the local gateway
 * (local/http-gateway.ts). Clients authenticate with a bearer key, never cookies, so any origin may
 * call. Exposed: the request id (to quote in a support request), the routing headers, and the rate
 * limit headers (a browser client can pace itself: `RateLimit`, `RateLimit-Policy`, and `Retry-After`,
 * which is not CORS-safelisted either).
 */
export const CORS: { allowOrigins: string[]; allowHeaders: string[]; exposeHeaders: string[] } = {
  allowOrigins: ["*"],
  allowHeaders: ["authorization", "content-type"],
  exposeHeaders: [
    "x-request-id",
    "x-agentorg-model",
    "x-agentorg-tier",
    "x-agentorg-score",
    "x-agentorg-offline",
    "ratelimit",
    "ratelimit-policy",
    "retry-after",
  ],
};
