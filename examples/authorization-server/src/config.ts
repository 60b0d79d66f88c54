import { z } from 'zod';
import { httpUrl, listenEnv, parseExampleEnv } from '../../shared/src/env';

/** The AS's settings, from the environment, checked once at start. */
const Env = z.object({
  ...listenEnv(4000, 0),
  /** This AS's issuer identifier (RFC 8414): its public base URL. */
  ISSUER: httpUrl.optional(),
  /** cimd-gateway's HTTP API, and the tenant and API key this AS uses there. */
  CIMD_GATEWAY_URL: httpUrl,
  CIMD_TENANT: z.string().min(1),
  CIMD_API_KEY: z.string().min(1),
  /** The gateway's gRPC API (host:port): revocation events come through WatchEvents; otherwise by polling HTTP. */
  CIMD_GATEWAY_GRPC: z.string().min(1).optional(),
  /** The protected resource this AS issues tokens for (an MCP server's URL), and its scopes. */
  RESOURCE: httpUrl,
  RESOURCE_SCOPES: z.string().default('mcp:tools'),
  /** The credentials the resource server introspects tokens with. */
  RESOURCE_CLIENT_ID: z.string().min(1),
  RESOURCE_CLIENT_SECRET: z.string().min(32),
});

export interface AuthorizationServerConfig {
  port: number;
  host: string;
  issuer: string;
  gateway: { url: string; tenant: string; apiKey: string; grpc?: string };
  resource: { url: string; scopes: string[]; clientId: string; clientSecret: string };
}

export function loadConfig(env: NodeJS.ProcessEnv): AuthorizationServerConfig {
  const e = parseExampleEnv(Env, env);
  return {
    port: e.PORT,
    host: e.HOST,
    issuer: e.ISSUER ?? `http://${e.HOST}:${e.PORT}`,
    gateway: {
      url: e.CIMD_GATEWAY_URL,
      tenant: e.CIMD_TENANT,
      apiKey: e.CIMD_API_KEY,
      ...(e.CIMD_GATEWAY_GRPC !== undefined ? { grpc: e.CIMD_GATEWAY_GRPC } : {}),
    },
    resource: {
      url: e.RESOURCE,
      scopes: e.RESOURCE_SCOPES.split(' ').filter(Boolean),
      clientId: e.RESOURCE_CLIENT_ID,
      clientSecret: e.RESOURCE_CLIENT_SECRET,
    },
  };
}
