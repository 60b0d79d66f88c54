import { z } from 'zod';
import { httpUrl, listenEnv, parseExampleEnv } from '../../shared/src/env';

/** The MCP server's settings, from the environment, checked once at start. */
const Env = z.object({
  ...listenEnv(4100, 1),
  /** This server's URL as its clients use it: its resource identifier (RFC 8707, RFC 9728). */
  RESOURCE: httpUrl.optional(),
  /** The authorization server that protects it (its issuer identifier). */
  AUTHORIZATION_SERVER: httpUrl,
  SCOPES: z.string().default('mcp:tools'),
  /** How this server authenticates at the AS's introspection endpoint. */
  INTROSPECTION_CLIENT_ID: z.string().min(1),
  INTROSPECTION_CLIENT_SECRET: z.string().min(32),
});

export interface McpServerConfig {
  port: number;
  host: string;
  resource: string;
  authorizationServer: string;
  scopes: string[];
  introspection: { clientId: string; clientSecret: string };
}

export function loadConfig(env: NodeJS.ProcessEnv): McpServerConfig {
  const e = parseExampleEnv(Env, env);
  return {
    port: e.PORT,
    host: e.HOST,
    resource: e.RESOURCE ?? `http://${e.HOST}:${e.PORT}/mcp`,
    authorizationServer: e.AUTHORIZATION_SERVER,
    scopes: e.SCOPES.split(' ').filter(Boolean),
    introspection: { clientId: e.INTROSPECTION_CLIENT_ID, clientSecret: e.INTROSPECTION_CLIENT_SECRET },
  };
}
