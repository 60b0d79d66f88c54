import { z } from 'zod';

const url = z.url({ protocol: /^https?$/ });

/** The MCP server's settings, from the environment, checked once at start. */
const Env = z.object({
  PORT: z.coerce.number().int().min(1).max(65535).default(4100),
  HOST: z.string().default('127.0.0.1'),
  /** This server's URL as its clients use it: its resource identifier (RFC 8707, RFC 9728). */
  RESOURCE: url.optional(),
  /** The authorization server that protects it (its issuer identifier). */
  AUTHORIZATION_SERVER: url,
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
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`invalid configuration: ${problems}`);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    host: e.HOST,
    resource: e.RESOURCE ?? `http://${e.HOST}:${e.PORT}/mcp`,
    authorizationServer: e.AUTHORIZATION_SERVER,
    scopes: e.SCOPES.split(' ').filter(Boolean),
    introspection: { clientId: e.INTROSPECTION_CLIENT_ID, clientSecret: e.INTROSPECTION_CLIENT_SECRET },
  };
}
