'use strict';
/** Shared by the scenarios: serve clients on the local origin and ask the gateway about them. */
const { request } = require('undici');
const documents = require('../lib/documents');

/**
 * Serve one client per path at `host` (a document of the corpus moved there) and return the
 * bodies of the checks an authorization server would send for them. `close`: end the
 * connection after each answer (every fetch then opens a new one).
 */
function serveClients(ctx, { count, host, prefix, delayMs = 0, close = false }) {
  const { stack, templates } = ctx;
  stack.origin.json(documents.JWKS_PATH, documents.JWKS, { 'cache-control': 'max-age=3600' });
  const clients = [];
  for (let i = 0; i < count; i++) {
    const p = `/${prefix}/${i}/client-metadata.json`;
    const clientId = stack.clientId(p, host);
    const template = templates[i % templates.length];
    const body = JSON.stringify(documents.served(template, clientId));
    const etag = `"${prefix}-${i}"`;
    stack.origin.route(p, (_req, res) => {
      const answer = () =>
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'cache-control': 'max-age=3600',
            etag,
            'last-modified': 'Wed, 26 Nov 2025 09:00:00 GMT',
            ...(close ? { connection: 'close' } : {}),
          })
          .end(body);
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
    clients.push({ path: p, clientId, check: JSON.stringify(documents.checkBody(template, clientId)) });
  }
  return clients;
}

/**
 * The `count` clients authorize_hit and authorize_hit_grpc check, spread over the origin's
 * hosts: the same ones for both, so the scenario that runs second finds them cached.
 */
function hitClients(ctx, count) {
  const hosts = ctx.stack.spreadHosts;
  const clients = hosts.flatMap((host, h) =>
    serveClients(ctx, { count: Math.ceil(count / hosts.length), host, prefix: `hit${h}` }),
  );
  clients.length = count;
  return clients;
}

/** POST one authorize check to the gateway (or the baseline) and return the status, decision and time. */
function check(stack, body, dispatcher) {
  return post(`${stack.url}/v1/tenants/${stack.tenant}/authorize/check`, stack.apiKey, body, dispatcher);
}

async function post(url, token, body, dispatcher) {
  const t0 = performance.now();
  const res = await request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
    ...(dispatcher ? { dispatcher } : {}),
  });
  const text = await res.body.text();
  const ms = performance.now() - t0;
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = { text };
  }
  return { status: res.statusCode, body: json, ms };
}

/** Run `fn` over `items` with at most `limit` at once. */
async function eachLimit(items, limit, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

module.exports = { serveClients, hitClients, check, post, eachLimit };
