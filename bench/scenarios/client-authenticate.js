'use strict';
/**
 * client_authenticate: POST /v1/tenants/{t}/clients/authenticate, a private_key_jwt client
 * authenticating at the token endpoint with a fresh ES256 assertion per request (a jti is single
 * use), for clients whose documents and keys (from jwks_uri) are cached, against the baseline
 * server's route of the same name: `jose` verifying the same assertions in a bare node:http
 * server (same claim checks, key sets held in memory, no jti store) in the same run.
 *
 * 1. `clients` confidential clients, each with its own P-256 key at its jwks_uri, are fetched
 *    once through the real path (authenticate → fetcher → origin → Redis, keys as a follow-up).
 * 2. The assertions are signed beforehand (outside any measurement): each side gets its own,
 *    as many as a short probe of that side says it can use, plus a margin.
 * 3. Warm-up, then the maximum rate of each side (autocannon, closed loop), alternating
 *    `rounds` times; the CPU time each server spends per verification.
 */
const { generateKeyPairSync, sign } = require('node:crypto');
const { maxRate, round } = require('../lib/load');
const { cpuUsage } = require('../lib/cpu');
const { eachLimit, post } = require('./prime');

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const AUTHENTICATED = (body) => body.includes('"authenticated":true');
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Serve `count` confidential clients across the spread hosts, each with its own key. */
function serveConfidentialClients(stack, count) {
  const clients = [];
  for (let i = 0; i < count; i++) {
    const host = stack.spreadHosts[i % stack.spreadHosts.length];
    const clientId = stack.clientId(`/auth/${i}/client-metadata.json`, host);
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const kid = `auth-${i}`;
    const jwks = { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] };
    const headers = { 'content-type': 'application/json', 'cache-control': 'max-age=3600' };
    stack.origin.route(`/auth/${i}/jwks.json`, (_req, res) => res.writeHead(200, headers).end(JSON.stringify(jwks)));
    // Shaped like the confidential atproto clients of the corpus (private_key_jwt, ES256, jwks_uri).
    const document = JSON.stringify({
      client_id: clientId,
      client_name: `Confidential bench client ${i}`,
      redirect_uris: [`https://${host}/callback`],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'atproto transition:generic',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks_uri: stack.clientId(`/auth/${i}/jwks.json`, host),
      application_type: 'web',
      dpop_bound_access_tokens: true,
    });
    stack.origin.route(`/auth/${i}/client-metadata.json`, (_req, res) => res.writeHead(200, headers).end(document));
    clients.push({ clientId, kid, privateKey });
  }
  return clients;
}

/** `n` authenticate request bodies, each with a newly signed assertion, round-robin over the clients. */
function assertionBodies(stack, clients, n, label) {
  const now = Math.floor(Date.now() / 1000);
  const bodies = new Array(n);
  for (let i = 0; i < n; i++) {
    const c = clients[i % clients.length];
    const input = `${b64({ alg: 'ES256', kid: c.kid, typ: 'JWT' })}.${b64({
      iss: c.clientId,
      sub: c.clientId,
      aud: stack.authorizationServer.token_endpoint,
      iat: now,
      exp: now + 240,
      jti: `${label}-${i}`,
    })}`;
    const signature = sign('sha256', Buffer.from(input), { key: c.privateKey, dsaEncoding: 'ieee-p1363' });
    bodies[i] = JSON.stringify({
      client_id: c.clientId,
      client_assertion_type: JWT_BEARER,
      client_assertion: `${input}.${signature.toString('base64url')}`,
    });
  }
  return bodies;
}

module.exports = {
  name: 'client_authenticate',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const { clients: count, connections, warmupS, maxS, rounds } = sizes.authenticate;
    const clients = serveConfidentialClients(stack, count);
    const path = `/v1/tenants/${stack.tenant}/clients/authenticate`;

    log(`  caching ${count} confidential clients and their keys through the gateway and the fetcher`);
    let n = 0;
    const statuses = {};
    await eachLimit(clients, 16, async (c) => {
      for (const deadline = Date.now() + 30_000; ;) {
        const [body] = assertionBodies(stack, [c], 1, `prime-${n++}`);
        const r = await post(`${stack.url}${path}`, stack.apiKey, body);
        if (r.body.authenticated === true) return;
        if (Date.now() > deadline || r.status !== 200 || r.body.error === 'invalid_client') {
          const key = `${r.status} ${r.body.reason ?? r.body.error}`;
          statuses[key] = (statuses[key] ?? 0) + 1;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    });
    if (Object.keys(statuses).length > 0) throw new Error(`priming: ${JSON.stringify(statuses)}`);

    const url = { gateway: `${stack.url}${path}`, baseline: `${stack.baselineUrl}${path}` };
    const side = (name, bodies, durationS) => ({
      url: url[name],
      headers: { authorization: `Bearer ${stack.apiKey}` },
      bodies,
      connections,
      durationS,
      verify: AUTHENTICATED,
    });
    // The gateway refuses a jti it has seen: each run gets assertions of its own, enough for it:
    // three times the fastest rate that side has shown so far (a 1 s probe, then the warm-up and
    // each run: a side still warming up runs much faster later), at least 10,000 a second.
    const probe = {};
    for (const name of ['gateway', 'baseline'])
      probe[name] = await maxRate(side(name, assertionBodies(stack, clients, 20_000, `probe-${name}`), 1));
    const fastest = { gateway: probe.gateway.rps, baseline: probe.baseline.rps };
    const seen = (name, result) => (fastest[name] = Math.max(fastest[name], result.rps));
    const perRun = (name, durationS) => Math.ceil(Math.max(fastest[name] * 3, 10_000) * durationS) + 1000;
    log(`  probe: gateway ${probe.gateway.rps}, baseline ${probe.baseline.rps} verifications/s`);

    log(`  warm-up ${warmupS} s each`);
    for (const name of ['gateway', 'baseline'])
      seen(
        name,
        await maxRate(side(name, assertionBodies(stack, clients, perRun(name, warmupS), `warm-${name}`), warmupS)),
      );

    const runs = { gateway: [], baseline: [] };
    const cpu = {};
    const cpuPerRequest = { gateway: [], baseline: [] };
    for (let r = 0; r < rounds; r++) {
      for (const name of ['gateway', 'baseline']) {
        const bodies = assertionBodies(stack, clients, perRun(name, maxS), `${name}-${r}`);
        const usage = cpuUsage(stack.pids());
        const result = await maxRate(side(name, bodies, maxS));
        cpu[`${name}_max`] = usage.stop();
        cpuPerRequest[name].push((cpu[`${name}_max`][name] * 10_000) / result.rps);
        if (result.requests > bodies.length) throw new Error(`${name}: ran out of assertions (${bodies.length})`);
        if (result.non2xx || result.errors || result.mismatches)
          throw new Error(`${name}: ${JSON.stringify(result)} (answers that were not authenticated: true)`);
        seen(name, result);
        runs[name].push(result);
        log(`  ${name} max: ${result.rps} verifications/s (p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms)`);
      }
    }
    const mean = (list, k) => round(list.reduce((a, x) => a + x[k], 0) / list.length, 0);
    const average = (list) => round(list.reduce((a, x) => a + x, 0) / list.length, 0);
    const rps = mean(runs.gateway, 'rps');
    const baselineRps = mean(runs.baseline, 'rps');
    return {
      metrics: {
        rps,
        baseline_rps: baselineRps,
        ratio: round(rps / baselineRps, 2),
        p50_ms: runs.gateway[runs.gateway.length - 1].p50_ms,
        p99_at_max_ms: runs.gateway[runs.gateway.length - 1].p99_ms,
        cpu_us_per_request: average(cpuPerRequest.gateway),
        baseline_cpu_us_per_request: average(cpuPerRequest.baseline),
        clients: count,
        connections,
        max_duration_s: maxS,
        alg: 'ES256',
      },
      detail: { runs, probe, cpu_percent: cpu },
    };
  },
  target(m) {
    return { text: 'ratio ≥ 0.8 (verifications per second against jose in bare node:http)', met: m.ratio >= 0.8 };
  },
};
