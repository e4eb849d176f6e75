import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import type { ConnectionPusher } from "../../core/realtime/ports";
import { config } from "./config";

const clients = new Map<string, ApiGatewayManagementApiClient>();

/**
 * The @connections endpoint: configured (local runtime, or HTTP functions that push events), else
 * derived from the WebSocket event that invoked us (`https://{domainName}/{stage}`).
 */
export function managementEndpoint(requestContext?: { domainName?: string; stage?: string }): string {
  const configured = config().wsEndpoint;
  if (configured) return configured;
  if (!requestContext?.domainName) throw new Error("No @connections endpoint: set AGENTORG_WS_ENDPOINT");
  return `https://${requestContext.domainName}/${requestContext.stage}`;
}

/** A pusher over the real API Gateway Management API client (one client per endpoint, reused). */
export function createPusher(endpoint: string): ConnectionPusher {
  let client = clients.get(endpoint);
  if (!client) {
    client = new ApiGatewayManagementApiClient({ endpoint, region: config().region });
    clients.set(endpoint, client);
  }
  const api = client;
  return {
    async post(connectionId, frame) {
      try {
        await api.send(
          new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }),
        );
        return true;
      } catch (error) {
        if (error instanceof GoneException) return false;
        throw error;
      }
    },
    async disconnect(connectionId) {
      try {
        await api.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
        return true;
      } catch (error) {
        if (error instanceof GoneException) return false;
        throw error;
      }
    },
  };
}
