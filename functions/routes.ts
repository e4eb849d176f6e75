import { z } from "../core/shared/zod";
import { ID_PATTERN } from "../core/ids";
import { ApiKey, CreateApiKeyBody, CreatedApiKey } from "../core/tenants/api-key.schema";
import {
  CreateOrganizationBody,
  Organization,
  OrganizationUsage,
  UpdateOrganizationBody,
} from "../core/tenants/organization.schema";
import { type HttpRouteSpec, type StreamConsumerSpec, type WsRouteSpec, httpRoute, wsRoute } from "./manifest.types";

/**
 * THE route manifest: every HTTP route, WebSocket route key and stream consumer, declared once.
 * Generated from it: the SST stacks (stacks/), the local gateways (local/), the OpenAPI document
 * (functions/lib/openapi.ts). A handler string names `functions/<file>.<export>`.
 */

/** An entity id in a path. A malformed one cannot exist, so the wrapper answers 404 for it, not 400. */
const Id = z.string().regex(ID_PATTERN);
const IdParams = z.object({ id: Id });
const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(2048).optional(),
});
const Page = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), cursor: z.string().optional() }).meta({ id });

export const Health = z
  .object({ status: z.literal("ok"), service: z.string(), version: z.string(), time: z.string() })
  .meta({ id: "Health" });

export const http = {
  health: httpRoute({
    method: "GET",
    path: "/api/v1/health",
    handler: "functions/http/health.handler",
    auth: "public",
    summary: "Liveness: the API answers",
    tags: ["platform"],
    response: { status: 200, description: "The API is up", schema: Health },
    permissions: [],
  }),
  openapi: httpRoute({
    method: "GET",
    path: "/api/v1/openapi.json",
    handler: "functions/http/openapi.handler",
    auth: "public",
    summary: "This OpenAPI 3.1 document",
    tags: ["platform"],
    response: { status: 200, description: "OpenAPI 3.1 document" },
    permissions: [],
  }),

  createOrganization: httpRoute({
    method: "POST",
    path: "/api/v1/organizations",
    handler: "functions/http/organizations.create",
    auth: "operator",
    summary: "Create an organization (tenant); quotas follow the tier",
    tags: ["organizations"],
    body: CreateOrganizationBody,
    response: { status: 201, description: "The new organization", schema: Organization },
    permissions: ["table:write"],
  }),
  listOrganizations: httpRoute({
    method: "GET",
    path: "/api/v1/organizations",
    handler: "functions/http/organizations.list",
    auth: "key",
    summary: "List organizations: all for the operator, its own for an organization key",
    tags: ["organizations"],
    query: PageQuery,
    response: { status: 200, description: "A page of organizations", schema: Page(Organization, "OrganizationPage") },
    permissions: ["table:read"],
  }),
  getOrganization: httpRoute({
    method: "GET",
    path: "/api/v1/organizations/{id}",
    handler: "functions/http/organizations.get",
    auth: "key",
    summary: "Get an organization",
    tags: ["organizations"],
    params: IdParams,
    response: { status: 200, description: "The organization", schema: Organization },
    permissions: ["table:read"],
  }),
  updateOrganization: httpRoute({
    method: "PATCH",
    path: "/api/v1/organizations/{id}",
    handler: "functions/http/organizations.update",
    auth: "key",
    summary: "Change name, industry, size; the tier (operator only) re-derives the quotas",
    tags: ["organizations"],
    params: IdParams,
    body: UpdateOrganizationBody,
    response: { status: 200, description: "The updated organization", schema: Organization },
    permissions: ["table:write"],
  }),
  closeOrganization: httpRoute({
    method: "DELETE",
    path: "/api/v1/organizations/{id}",
    handler: "functions/http/organizations.close",
    // Operator only, enforced in core after the visibility check: another tenant's id is 404, its own 403.
    auth: "key",
    summary: "Close an organization: its keys stop working, its data is kept (purge: npm run org:purge)",
    tags: ["organizations"],
    params: IdParams,
    response: { status: 200, description: "The closed organization", schema: Organization },
    permissions: ["table:write"],
  }),
  organizationUsage: httpRoute({
    method: "GET",
    path: "/api/v1/organizations/{id}/usage",
    handler: "functions/http/organizations.usage",
    auth: "key",
    summary: "Usage of the current period against quotas, and a bill preview",
    tags: ["organizations"],
    params: IdParams,
    response: { status: 200, description: "Usage of the current period", schema: OrganizationUsage },
    permissions: ["table:read"],
  }),

  createApiKey: httpRoute({
    method: "POST",
    path: "/api/v1/organizations/{id}/api-keys",
    handler: "functions/http/api-keys.create",
    auth: "key",
    summary: "Create an API key; the secret is returned once",
    tags: ["api keys"],
    params: IdParams,
    body: CreateApiKeyBody,
    response: { status: 201, description: "The key, with its secret (shown once)", schema: CreatedApiKey },
    permissions: ["table:write"],
  }),
  listApiKeys: httpRoute({
    method: "GET",
    path: "/api/v1/organizations/{id}/api-keys",
    handler: "functions/http/api-keys.list",
    auth: "key",
    summary: "List an organization's API keys (no secrets)",
    tags: ["api keys"],
    params: IdParams,
    response: {
      status: 200,
      description: "The organization's keys",
      schema: z.object({ items: z.array(ApiKey) }).meta({ id: "ApiKeyList" }),
    },
    permissions: ["table:read"],
  }),
  revokeApiKey: httpRoute({
    method: "DELETE",
    path: "/api/v1/organizations/{id}/api-keys/{keyId}",
    handler: "functions/http/api-keys.revoke",
    auth: "key",
    summary: "Revoke an API key",
    tags: ["api keys"],
    params: z.object({ id: Id, keyId: Id }),
    response: { status: 200, description: "The revoked key", schema: ApiKey },
    permissions: ["table:write"],
  }),
} as const;

/** Catch-all: unknown routes get a problem+json 404 (or 405) instead of API Gateway's own body. */
export const fallback = {
  handler: "functions/http/not-found.handler",
  permissions: [] as const,
};

export const Ping = z.strictObject({ action: z.literal("ping"), id: z.string().max(100).optional() }).meta({ id: "PingFrame" });

export const ws = {
  connect: wsRoute({
    routeKey: "$connect",
    handler: "functions/ws/connect.handler",
    summary: "Authenticate the caller and record the connection",
    permissions: ["table:read", "table:write"],
  }),
  disconnect: wsRoute({
    routeKey: "$disconnect",
    handler: "functions/ws/disconnect.handler",
    summary: "Forget the connection",
    permissions: ["table:read", "table:write"],
  }),
  ping: wsRoute({
    routeKey: "ping",
    handler: "functions/ws/ping.handler",
    summary: "Answer with a pong frame through the @connections API",
    body: Ping,
    permissions: ["connections:manage"],
  }),
  default: wsRoute({
    routeKey: "$default",
    handler: "functions/ws/default.handler",
    summary: "A frame without a known action: an error frame, the connection stays open",
    permissions: ["connections:manage"],
  }),
} as const;

/** Stream consumers fed by the table's stream (deployed: event source mappings; locally: local/stream-poller.ts). */
export const streams: StreamConsumerSpec[] = [];

export type HttpRoutes = typeof http;

/** The manifest as plain lists, for generators (stacks, local gateway, OpenAPI). */
export const httpRoutes: HttpRouteSpec[] = Object.values(http);
export const wsRoutes: WsRouteSpec[] = Object.values(ws);
