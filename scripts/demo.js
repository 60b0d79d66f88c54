#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: a local HTTPS "client host" (its CA made now, trusted by the fetcher only
 * through its test overrides), the gateway and the fetcher as processes, and a walk through
 * the decisions a platform cares about, then a client's life after consent: a session, a
 * document change the tenant revokes on, the document gone and its sessions revoked, with the
 * tenant's events and its Standard Webhooks deliveries. Leaves nothing behind: its database and
 * Redis keys are removed at the end.
 */
const { randomBytes } = require('node:crypto');
const path = require('node:path');
const { root, startDemoClientHost, gatewayApi, demoSystem, runDemo } = require('./demo-support');

const { waitFor } = require(path.join(root, 'dist/libs/testing/src'));

const { Webhook } = require('standardwebhooks');

const HOSTS = ['app.demo.test', 'impostor.demo.test', 'blocked.demo.test', 'hooks.demo.test'];
/** How long the fetcher waits before confirming that a document is gone (60 s by default). */
const GONE_CONFIRM_DELAY_MS = 2000;
const system = demoSystem('demo');
const adminToken = randomBytes(24).toString('base64url');
/** The local HTTPS host, closed at the end whatever happened (its server would keep the demo running). */
let origin;

/** The lines that tell a decision. */
function decisionLines(decision) {
  const lines = [];
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
  return lines;
}

function show(title, decision) {
  process.stdout.write(`${[`\n▶ ${title}`, ...decisionLines(decision)].join('\n')}\n`);
}

function step(title) {
  process.stdout.write(`\n▶ ${title}\n`);
}

function showSession(id, s) {
  process.stdout.write(`  SESSION  ${id}: ${s.active ? 'active' : `revoked at ${s.revoked_at}, reason ${s.reason}`}\n`);
}

function showEvent(e) {
  process.stdout.write(`  EVENT    #${e.id} ${e.type} ${JSON.stringify(e.data)}\n`);
}

const until = (what, check) => waitFor(check, what, 20_000);

async function main() {
  const host = await startDemoClientHost('demo', HOSTS, 'cimd-gateway demo CA');
  origin = host.origin;
  const originPort = host.originPort;
  const id = (host, p) => `https://${host}:${originPort}${p}`;
  const app = id('app.demo.test', '/oauth/client.json');
  const appDocument = {
    client_id: app,
    client_name: 'Demo Desktop App',
    client_uri: `https://app.demo.test:${originPort}/`,
    redirect_uris: [`https://app.demo.test:${originPort}/callback`, 'http://127.0.0.1/callback'],
    token_endpoint_auth_method: 'none',
  };
  origin.json('/oauth/client.json', appDocument, { 'cache-control': 'max-age=300' });
  // acme's webhook receiver, as a tenant would write it with a Standard Webhooks library.
  const webhookSecret = `whsec_${randomBytes(32).toString('base64')}`;
  const webhooks = [];
  origin.route('/hooks/acme', (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      let verified;
      try {
        new Webhook(webhookSecret).verify(body, req.headers);
        verified = true;
      } catch (e) {
        verified = e.message;
      }
      webhooks.push({ event: JSON.parse(body), id: req.headers['webhook-id'], verified });
      res.writeHead(204).end();
    });
  });
  // The same path on another host serves a document that claims the first client's identity.
  const impostor = id('impostor.demo.test', '/oauth/client.json');
  const blocked = id('blocked.demo.test', '/oauth/client.json');

  const { api } = await system.startServices({
    adminToken,
    fetcherEnv: { ...host.fetcherEnv, CIMD_GONE_CONFIRM_DELAY_MS: String(GONE_CONFIRM_DELAY_MS) },
    // acme's webhook receiver listens on the client host's port, not 443.
    gatewayEnv: { CIMD_WEBHOOK_ALLOWED_PORTS: String(originPort) },
  });
  process.stdout.write(
    `cimd-gateway demo: gateway ${api} (docs ${api}/docs), client host https://*.demo.test:${originPort}\n`,
  );
  process.stdout.write(`operator console: ${api}/console (sign in with the admin token ${adminToken})\n`);

  const call = gatewayApi(api, adminToken);
  const hook = { url: id('hooks.demo.test', '/hooks/acme'), secret: webhookSecret };
  await call('POST', '/v1/tenants', { id: 'acme', policy: { webhook: hook } });
  await call('POST', '/v1/tenants', { id: 'strict-bank', policy: { deny_hosts: ['blocked.demo.test'] } });
  const { key } = await call('POST', '/v1/tenants/acme/keys');
  process.stdout.write(
    'created tenants "acme" (default policy, webhooks to hooks.demo.test) and "strict-bank" (denies blocked.demo.test), and an API key for acme\n',
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

  // After consent: what no other implementation does. Sessions end with the client.
  const session = (sid) => call('GET', `/v1/tenants/acme/sessions/${sid}`, undefined, key);
  /** alice's grant to the app, as the AS registers it when it issues her a refresh token. */
  const registerSession = (sid) =>
    call('POST', '/v1/tenants/acme/sessions', { session_id: sid, client_id: app, subject: 'alice' }, key);
  let seen = '0';
  const newEvents = async () => {
    const page = await call('GET', `/v1/tenants/acme/events?after=${seen}`, undefined, key);
    seen = page.next_after;
    return page.events;
  };
  const showWebhooks = async (eventIds) => {
    for (const eventId of eventIds) {
      const w = await until(`the webhook of event ${eventId}`, () => webhooks.find((h) => h.event.id === eventId));
      process.stdout.write(
        `  WEBHOOK  ${w.event.type} #${w.event.id} to hooks.demo.test, webhook-id ${w.id}: ${w.verified === true ? 'verified with the standardwebhooks library' : `NOT verified (${w.verified})`}\n`,
      );
    }
  };

  step('6. a session registered for the client (the AS granted alice a refresh token)');
  showSession('alice-laptop', await registerSession('alice-laptop'));
  process.stdout.write(
    "  (before it honours alice's refresh token, the AS asks GET /v1/tenants/acme/sessions/alice-laptop)\n",
  );

  step("7. the client's document changes (a redirect URI removed): acme's policy revokes on that");
  origin.json('/oauth/client.json', { ...appDocument, redirect_uris: [callback] }, { 'cache-control': 'max-age=300' });
  // As the scheduled revalidation would at refresh_at: fetch it again now.
  await call('POST', '/v1/clients/refresh', { client_id: app });
  const changed = await until('the revocation', async () => {
    const s = await session('alice-laptop');
    return s.active ? undefined : s;
  });
  showSession('alice-laptop', changed);
  const changeEvents = await until('the event', async () => {
    const list = await newEvents();
    return list.length > 0 ? list : undefined;
  });
  changeEvents.forEach(showEvent);
  await showWebhooks(changeEvents.map((e) => e.id));

  step('8. the document disappears (404): after the gone confirmation, every session of it is revoked');
  showSession('alice-phone', await registerSession('alice-phone'));
  origin.route('/oauth/client.json', (_req, res) => res.writeHead(404).end());
  await call('POST', '/v1/clients/refresh', { client_id: app });
  const suspect = await until('the first 404', async () => {
    const c = await call('GET', `/v1/clients?client_id=${encodeURIComponent(app)}`);
    return c.suspect;
  });
  const meanwhile = await check('acme', { client_id: app, redirect_uri: callback });
  process.stdout.write(
    `  the first 404 (${new Date(suspect.since).toISOString()}) only makes the client suspect: checks still ${meanwhile.decision.toUpperCase()}; the fetcher looks again in ${GONE_CONFIRM_DELAY_MS / 1000} s\n`,
  );
  const gone = await until('the gone confirmation', async () => {
    const d = await check('acme', { client_id: app, redirect_uri: callback });
    return d.decision === 'deny' ? d : undefined;
  });
  process.stdout.write(
    `${['  the second 404 confirms it: the client is gone, new checks are refused at once', ...decisionLines(gone)].join('\n')}\n`,
  );
  showSession(
    'alice-phone',
    await until('the revocation', async () => {
      const s = await session('alice-phone');
      return s.active ? undefined : s;
    }),
  );
  const goneEvents = await until('the event', async () => {
    const list = await newEvents();
    return list.length > 0 ? list : undefined;
  });
  goneEvents.forEach(showEvent);
  await showWebhooks(goneEvents.map((e) => e.id));

  process.stdout.write(`\norigin requests: ${origin.requests.map((r) => `${r.headers.host}${r.path}`).join(', ')}\n`);
}

runDemo('demo', system, async () => {
  try {
    await main();
  } finally {
    await origin?.close();
  }
});
