#!/usr/bin/env node
'use strict';
/**
 * `npm run demo:mcp`: the MCP SDK's own client against examples/mcp-server, protected by
 * examples/authorization-server (oidc-provider), whose clients are Client ID Metadata Documents
 * resolved through cimd-gateway: the gateway, the fetcher, the two examples and a local HTTPS
 * "client host" (its CA made now) as processes, and the story the end-to-end test checks
 * (examples/mcp-end-to-end/src/story.ts), printed step by step. Leaves nothing behind.
 */
const { randomBytes } = require('node:crypto');
const path = require('node:path');
const { root, freePort, startDemoClientHost, gatewayApi, demoSystem, runDemo } = require('./demo-support');

const { HttpGatewayClient } = require(path.join(root, 'dist/libs/client/src'));
const e2e = path.join(root, 'dist/examples/mcp-end-to-end/src');
const { startAuthorizationServer, startMcpServer } = require(path.join(e2e, 'processes'));
const story = require(path.join(e2e, 'story'));

const HOSTS = { app: 'mcp-client.demo.test', other: 'other.demo.test', confidential: 'agent.demo.test' };
const system = demoSystem('demo-mcp');
const adminToken = randomBytes(24).toString('base64url');
const say = (text) => process.stdout.write(`${text}\n`);
const step = (title) => say(`\n▶ ${title}`);
const failure = (e) => (e ? `${e.errorCode ?? e.constructor.name}: ${e.message}` : 'no error (unexpected)');

async function main() {
  const { origin, originPort, fetcherEnv } = await startDemoClientHost(
    'demo-mcp',
    Object.values(HOSTS),
    'cimd-gateway MCP demo CA',
  );

  const [asPort, mcpPort] = await Promise.all([1, 2].map(() => freePort()));
  const { api, grpcPort } = await system.startServices({
    adminToken,
    fetcherEnv: { ...fetcherEnv, CIMD_GONE_CONFIRM_DELAY_MS: '1000' },
  });

  const admin = gatewayApi(api, adminToken);
  const asUrl = `http://127.0.0.1:${asPort}`;
  const mcpUrl = `http://127.0.0.1:${mcpPort}/mcp`;
  await admin('POST', '/v1/tenants', { id: 'acme', policy: { issuer: asUrl, token_endpoint: `${asUrl}/token` } });
  const { key } = await admin('POST', '/v1/tenants/acme/keys');
  const resourceClient = { id: 'mcp-server', secret: randomBytes(24).toString('hex') };

  const services = [];
  try {
    const as = await startAuthorizationServer({
      port: asPort,
      gatewayUrl: api,
      gatewayGrpc: `127.0.0.1:${grpcPort}`,
      tenant: 'acme',
      apiKey: key,
      resource: mcpUrl,
      resourceClientId: resourceClient.id,
      resourceClientSecret: resourceClient.secret,
    });
    services.push(as);
    services.push(
      await startMcpServer({
        port: mcpPort,
        authorizationServer: asUrl,
        clientId: resourceClient.id,
        clientSecret: resourceClient.secret,
      }),
    );
    const gateway = new HttpGatewayClient({ url: api, tenant: 'acme', token: key });
    const mcp = {
      gateway,
      refreshClient: (clientId) => admin('POST', '/v1/clients/refresh', { client_id: clientId }),
      origin,
      url: (host, p) => `https://${host}:${originPort}${p}`,
      as,
      asUrl,
      mcpUrl,
    };
    say(`cimd-gateway MCP demo: gateway ${api}, authorization server ${asUrl} (oidc-provider), MCP server ${mcpUrl}`);
    say(`client host https://*.demo.test:${originPort}; tenant "acme" with issuer ${asUrl}`);
    const clients = story.publishClients(mcp, HOSTS);

    step(`1. The MCP SDK's client, with clientMetadataUrl ${clients.public.clientId}`);
    const first = await story.connectWithClientIdMetadataDocument(mcp, clients.public.clientId);
    const m = first.metadata;
    say(`  401 from the MCP server → its protected resource metadata → the AS's RFC 8414 metadata:`);
    say(
      `    client_id_metadata_document_supported: ${m.client_id_metadata_document_supported}, token_endpoint_auth_methods_supported: ${m.token_endpoint_auth_methods_supported.join(', ')}`,
    );
    say(
      `  client_id: the document's URL; dynamic registration: ${m.registration_endpoint ? 'offered' : 'not offered'}, not attempted (${first.recorder.requests.filter((r) => r.url === m.registration_endpoint).length} requests)`,
    );
    const q = first.authorizationUrl.searchParams;
    say(
      `  authorize: PKCE ${q.get('code_challenge_method')}, redirect_uri ${q.get('redirect_uri')}, resource ${q.get('resource')}`,
    );
    const c = first.consent;
    say(`  consent page: "${c.clientName}" published at ${c.clientHost}, sends the user back to ${c.redirectHost}`);
    say(
      `    trust: ${c.trustLevel}; warnings: ${c.warnings.join(', ') || 'none'}; logo served by the gateway: ${c.logoUrl}`,
    );
    say(
      `  the user approves → code → tokens (access and refresh); grant ${first.grantId} registered as a gateway session`,
    );
    say(`  tool call whoami → "${first.toolText}"`);

    step('2. A client whose document lists another redirect URI than the one it asks for');
    const refused = await story.refusedWithoutRedirect(mcp, clients.mismatched.clientId);
    say(`  /authorize → ${story.describeLanding(refused.landing)}`);
    say(
      `  rule: ${refused.decision.reason}; redirect allowed: ${refused.decision.redirect}: the user sees a page, the client hears nothing`,
    );

    step(
      `3. A confidential client (private_key_jwt, its public key in its document): ${clients.confidential.clientId}`,
    );
    const confidential = await story.confidentialClient(mcp, clients.confidential);
    say(`  code exchanged without an assertion → ${failure(confidential.withoutAssertion)}`);
    say(`  with an assertion signed by a key not in its document → ${failure(confidential.withOtherKey)}`);
    say(`  with a valid assertion → tokens; tool call whoami → "${confidential.authorized.toolText}"`);
    say(`  the same assertion again (a refresh) → ${failure(confidential.replayed)}`);

    step("4. The first client's document is removed at its origin");
    const removed = await story.documentRemoved(mcp, first, clients.public.path);
    say(
      `  the gateway confirms it gone and ends its sessions: ${first.grantId} active: ${removed.session.active} (${removed.session.reason})`,
    );
    say(`  the AS hears the tenant's session.revoked event (gRPC WatchEvents) and revokes the grant with its tokens`);
    const statuses = removed.requests.map((r) => `${r.method} ${new URL(r.url).pathname} ${r.status}`).join(', ');
    say(`  next tool call → ${failure(removed.toolCall)} (${statuses})`);
    say(`  refresh with the client's refresh token → ${failure(removed.refresh)}`);

    step("5. Another client's document drops a redirect URI: a change the tenant revokes on, the client lives on");
    const changing = await story.connectWithClientIdMetadataDocument(mcp, clients.changing.clientId);
    say(`  authorized as in 1: tool call whoami → "${changing.toolText}"`);
    const changed = await story.documentChanged(mcp, changing, clients.changing);
    say(
      `  the gateway ends its sessions: ${changing.grantId} active: ${changed.session.active} (${changed.session.reason})`,
    );
    say(`  the AS revokes the grant: next tool call → ${failure(changed.toolCall)}`);
    say(`  refresh with the client's refresh token → ${failure(changed.refresh)}`);
    await Promise.all([first.client.close(), confidential.authorized.client.close(), changing.client.close()]);
  } finally {
    for (const service of services.reverse()) await service.stop();
    await origin.close();
  }
}

runDemo('demo:mcp', system, main);
