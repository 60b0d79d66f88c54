import { metadataHandler } from '@modelcontextprotocol/sdk/server/auth/handlers/metadata.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { getOAuthProtectedResourceMetadataUrl } from '@modelcontextprotocol/sdk/server/auth/router.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import type { McpServerConfig } from './config';
import { introspectionVerifier } from './introspection';

/** The MCP server itself: one tool that says who is calling, from the access token. */
function mcpServer(): McpServer {
  const server = new McpServer({ name: 'cimd-gateway-example', version: '1.0.0' });
  server.registerTool(
    'whoami',
    { description: 'Who the access token says is calling, and through which client' },
    ({ authInfo }) => ({
      content: [
        {
          type: 'text',
          text: `${typeof authInfo?.extra?.sub === 'string' ? authInfo.extra.sub : 'nobody'} through ${authInfo?.clientId ?? 'no client'}`,
        },
      ],
    }),
  );
  return server;
}

export interface RunningMcpServer {
  server: Server;
  close(): Promise<void>;
}

/**
 * A minimal MCP server over Streamable HTTP (stateless: a server and transport per request),
 * protected by the example authorization server: it publishes RFC 9728 protected resource
 * metadata naming that AS, and answers 401 with `WWW-Authenticate: Bearer resource_metadata=…`
 * to a request without a valid token for it, which is how an MCP client finds the AS.
 */
export async function startMcpServer(config: McpServerConfig, logger: Logger): Promise<RunningMcpServer> {
  // The AS's RFC 8414 metadata says where to introspect.
  const metadata = (await fetch(new URL('/.well-known/oauth-authorization-server', config.authorizationServer)).then(
    (r) => r.json(),
  )) as { issuer: string; introspection_endpoint?: string };
  if (!metadata.introspection_endpoint) throw new Error('the authorization server publishes no introspection_endpoint');

  const resource = new URL(config.resource);
  const resourceMetadataUrl = getOAuthProtectedResourceMetadataUrl(resource);
  const app = express();
  app.disable('x-powered-by');
  app.use(
    new URL(resourceMetadataUrl).pathname,
    metadataHandler({
      resource: config.resource,
      authorization_servers: [metadata.issuer],
      scopes_supported: config.scopes,
      bearer_methods_supported: ['header'],
      resource_name: 'cimd-gateway example MCP server',
    }),
  );
  const bearer = requireBearerAuth({
    verifier: introspectionVerifier({
      endpoint: metadata.introspection_endpoint,
      resource: config.resource,
      ...config.introspection,
    }),
    requiredScopes: config.scopes,
    resourceMetadataUrl,
    expectedResource: resource,
  });
  app.post(resource.pathname, express.json(), bearer, async (req, res) => {
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  // Stateless: no server-initiated stream, no session to end.
  app.all(resource.pathname, bearer, (_req, res) => {
    res
      .status(405)
      .set('allow', 'POST')
      .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed' }, id: null });
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  logger.info({ resource: config.resource, authorization_server: metadata.issuer }, 'MCP server listening');
  return {
    server,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
