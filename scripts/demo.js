#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: a local HTTPS "client host" (its CA made now, trusted by the fetcher only
 * through its test overrides), the gateway and the fetcher as processes, and a walk through
 * the decisions a platform cares about. Leaves nothing behind: its database and Redis keys
 * are removed at the end.
 */
const { randomBytes } = require('node:crypto');
const { mkdtempSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const path = require('node:path');
const { root, freePort, waitReady, demoSystem, runDemo } = require('./demo-support');

const { createTestPki, TestOrigin } = require(path.join(root, 'dist/libs/testing/src'));

const HOSTS = ['app.demo.test', 'impostor.demo.test', 'blocked.demo.test'];
const system = demoSystem('demo');
const adminToken = randomBytes(24).toString('base64url');

function show(title, decision) {
  const lines = [`\n▶ ${title}`];
  if (decision.decision === 'allow') {
    const c = decision.client;
    lines.push(`  ALLOW  ${c.name ?? '(no name)'} from ${c.host}, back to ${c.redirect_host}`);
    lines.push(
      `         trust: ${decision.trust.level}${decision.trust.warnings.length ? `; warnings: ${decision.trust.warnings.join(', ')}` : ''}`,
    );
  } else {
    lines.push(`  ${decision.decision.toUpperCase()}  ${decision.error}: ${decision.error_description}`);
    lines.push(`         rule: ${decision.reason}`);
  }
  if (decision.cache)
    lines.push(
      `         cache: ${decision.cache.status} (fetched ${decision.cache.fetched_at}, expires ${decision.cache.expires_at})`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function main() {
  const pki = await createTestPki('cimd-gateway demo CA');
  const origin = new TestOrigin(await pki.issue(HOSTS));
  const originPort = await origin.listen('127.0.0.1');
  const caFile = path.join(mkdtempSync(path.join(tmpdir(), 'cimd-demo-')), 'ca.pem');
  writeFileSync(caFile, pki.caPem);
  const id = (host, p) => `https://${host}:${originPort}${p}`;
  const app = id('app.demo.test', '/oauth/client.json');
  origin.json(
    '/oauth/client.json',
    {
      client_id: app,
      client_name: 'Demo Desktop App',
      client_uri: `https://app.demo.test:${originPort}/`,
      redirect_uris: [`https://app.demo.test:${originPort}/callback`, 'http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
    },
    { 'cache-control': 'max-age=300' },
  );
  // The same path on another host serves a document that claims the first client's identity.
  const impostor = id('impostor.demo.test', '/oauth/client.json');
  const blocked = id('blocked.demo.test', '/oauth/client.json');

  const [port, fetcherPort, grpcPort] = [await freePort(), await freePort(), await freePort()];
  system.start('dist/apps/fetcher/src/main.js', {
    HOST: '127.0.0.1',
    FETCHER_PORT: String(fetcherPort),
    CIMD_FETCH_ALLOWED_PORTS: String(originPort),
    CIMD_FETCH_RESOLVE: HOSTS.map((h) => `${h}:${originPort}:127.0.0.1`).join(';'),
    CIMD_FETCH_CA_FILE: caFile,
    CIMD_FETCH_ALLOW_CIDRS: '127.0.0.1/32',
  });
  system.start('dist/apps/gateway/src/main.js', {
    HOST: '127.0.0.1',
    PORT: String(port),
    GRPC_PORT: String(grpcPort),
    DATABASE_URL: system.databaseUrl,
    CIMD_ADMIN_TOKEN: adminToken,
  });
  const api = `http://127.0.0.1:${port}`;
  await Promise.all([waitReady(`${api}/readyz`), waitReady(`http://127.0.0.1:${fetcherPort}/readyz`)]);
  process.stdout.write(
    `cimd-gateway demo: gateway ${api} (docs ${api}/docs), client host https://*.demo.test:${originPort}\n`,
  );
  process.stdout.write(`operator console: ${api}/console (sign in with the admin token ${adminToken})\n`);

  const call = async (method, p, body, token = adminToken) => {
    const res = await fetch(`${api}${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const json = await res.json().catch(() => undefined);
    if (res.status >= 400) throw new Error(`${method} ${p} → ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await call('POST', '/v1/tenants', { id: 'acme' });
  await call('POST', '/v1/tenants', { id: 'strict-bank', policy: { deny_hosts: ['blocked.demo.test'] } });
  const { key } = await call('POST', '/v1/tenants/acme/keys');
  process.stdout.write(
    'created tenants "acme" and "strict-bank" (denies blocked.demo.test), and an API key for acme\n',
  );

  const check = (tenant, body, token = key) =>
    call('POST', `/v1/tenants/${tenant}/authorize/check`, { code_challenge_method: 'S256', ...body }, token);
  const callback = `https://app.demo.test:${originPort}/callback`;

  show(
    '1. first check of a client never seen: a cache miss, fetched and validated',
    await check('acme', { client_id: app, redirect_uri: callback }),
  );
  show(
    '2. the same check again: answered from the shared cache',
    await check('acme', { client_id: app, redirect_uri: callback }),
  );
  show(
    '3. a redirect URI the document does not register',
    await check('acme', { client_id: app, redirect_uri: 'https://evil.example/callback' }),
  );
  show(
    '4. impersonation: impostor.demo.test serves a document claiming to be app.demo.test',
    await check('acme', { client_id: impostor, redirect_uri: callback }),
  );
  show(
    '5. a tenant whose policy denies the client host (never fetched)',
    await check('strict-bank', { client_id: blocked, redirect_uri: callback }, adminToken),
  );
  process.stdout.write(`\norigin requests: ${origin.requests.map((r) => `${r.headers.host}${r.path}`).join(', ')}\n`);
  await origin.close();
}

runDemo('demo', system, main);
