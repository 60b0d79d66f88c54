#!/usr/bin/env node
'use strict';
/**
 * The baselines the gateway is measured against, as one minimal node:http + ioredis server
 * built on the same @cimd libraries (dist/):
 *
 * POST /v1/tenants/{t}/authorize/check — the cache hit with nothing around it: the bearer token
 *   compared by SHA-256, the JSON body parsed and its two required fields checked, the same
 *   client_id rules and default tenant policy, the same cache entry read under the same key
 *   (@cimd/contracts RedisKeys.clientEntry), and the same decision (@cimd/core
 *   decideAuthorization, built from the entry as the gateway builds it) with the same `cache`
 *   block. No framework, no schema library, no metrics, no guard. An uncached client is
 *   answered "pending": the baseline never fetches.
 *
 * POST /v1/tenants/{t}/clients/authenticate — jose verifying a client assertion and nothing more:
 *   the bearer token as above, the JSON body parsed, `jwtVerify` with the client's key set (read
 *   from its cache entry once, then held in memory), the same algorithms, issuer, subject,
 *   audience, lifetime and skew as the gateway's rules. No jti store, no policy, no metrics.
 *
 * POST /inline/check — what a peer without a fetcher does on the request path: fetch the
 *   document now with @cimd/safe-fetch (the same client and options as the fetcher), validate
 *   it, decide. Nothing is cached.
 *
 * gRPC cimd.v1.Gateway/CheckAuthorization on GRPC_PORT — the authorize check's cache hit over a
 *   bare @grpc/grpc-js server: the bearer token from the `authorization` metadata compared as
 *   above, the two required fields checked, then the same URL rules, Redis read and decision as
 *   the HTTP route, answered as the same CheckAuthorizationResponse message. No other method.
 */
const http = require('node:http');
const { createHash, timingSafeEqual } = require('node:crypto');
const { monitorEventLoopDelay } = require('node:perf_hooks');
const { readFileSync } = require('node:fs');
const Redis = require('ioredis');
const jose = require('jose');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const path = require('node:path');
const { DIST } = require('../lib/dist');
const { contracts, core, safeFetch } = require('../lib/dist');

const env = process.env;
const keys = new contracts.RedisKeys(env.CIMD_REDIS_PREFIX);
const redis = new Redis(env.REDIS_URL || 'redis://127.0.0.1:6379');
const authorizationServer = { issuer: env.BENCH_ISSUER, token_endpoint: env.BENCH_TOKEN_ENDPOINT };
const policy = core.parseTenantPolicy(env.BENCH_ISSUER ? authorizationServer : {}).policy;
const sha256 = (s) => createHash('sha256').update(s).digest();
const tokenHash = sha256(env.BENCH_TOKEN || '');
const publicUrl = `http://127.0.0.1:${env.PORT}`;
const fetcher = new safeFetch.SafeFetcher({
  allowedPorts: (env.FETCH_ALLOWED_PORTS || '443').split(',').map(Number),
  resolve: safeFetch.parseResolveMap(env.FETCH_RESOLVE || ''),
  allowCidrs: (env.FETCH_ALLOW_CIDRS || '').split(',').filter(Boolean),
  timeoutMs: Number(env.FETCH_TIMEOUT_MS || 5000),
  ...(env.FETCH_CA_FILE ? { extraCa: readFileSync(env.FETCH_CA_FILE, 'utf8') } : {}),
});

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function authorized(req) {
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ')) return false;
  return timingSafeEqual(sha256(header.slice(7)), tokenHash);
}

/** The request body and the client_id verdicts that come before any cache read. */
function parseCheck(raw) {
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return { error: 'the body is not JSON' };
  }
  if (!body || typeof body.client_id !== 'string' || typeof body.redirect_uri !== 'string') {
    return { error: 'client_id and redirect_uri are required' };
  }
  const url = core.checkClientIdUrl(body.client_id);
  if (!url.url) {
    return {
      decision: core.decideAuthorization({
        request: body,
        document: { valid: false, errors: url.errors, warnings: [] },
      }),
    };
  }
  if (core.evaluateClientIdPolicy(url.url, policy)) {
    return {
      decision: core.decideAuthorization({
        request: body,
        document: { valid: false, errors: [], warnings: [] },
        policy,
      }),
    };
  }
  return { body, url };
}

async function hit(body, url) {
  const entry = core.parseCacheEntry(await redis.get(keys.clientEntry(body.client_id)));
  if (!entry) return { decision: 'pending', error: 'temporarily_unavailable', reason: 'client.pending' };
  const document =
    entry.status === 'valid' && entry.document
      ? {
          valid: true,
          errors: [],
          warnings: (entry.warnings || []).map((code) => ({ code, message: '' })),
          document: entry.document,
        }
      : { valid: false, errors: entry.errors || [], warnings: [] };
  const logo = entry.logo ? `${publicUrl}/v1/logos/${entry.logo.sha256}` : undefined;
  const decision = core.decideAuthorization({
    request: body,
    urlCheck: url,
    document,
    policy,
    ...(entry.first_seen_at !== undefined ? { firstSeenAt: entry.first_seen_at } : {}),
    logoUrl: () => logo,
  });
  if (entry.status === 'valid') {
    decision.cache = {
      status: Date.now() < entry.refresh_at ? 'hit' : 'refreshing',
      fetched_at: new Date(entry.fetched_at).toISOString(),
      expires_at: new Date(entry.expires_at).toISOString(),
    };
  }
  return decision;
}

async function inline(body) {
  const outcome = await safeFetch.fetchClientMetadata(fetcher, body.client_id);
  if (outcome.outcome === 'transient') return { decision: 'pending', error: 'temporarily_unavailable' };
  const document =
    outcome.outcome === 'ok'
      ? { valid: true, errors: [], warnings: outcome.warnings, document: outcome.document }
      : { valid: false, errors: outcome.errors, warnings: [] };
  return core.decideAuthorization({ request: body, document, policy });
}

/** Key sets by client_id: read from the cache entry on first use, then held. */
const keySets = new Map();

async function keySetOf(clientId) {
  let keySet = keySets.get(clientId);
  if (!keySet) {
    const entry = core.parseCacheEntry(await redis.get(keys.clientEntry(clientId)));
    const jwks = entry?.document?.jwks ?? entry?.keys?.jwks;
    if (!jwks) return undefined;
    keySet = jose.createLocalJWKSet(jwks);
    keySets.set(clientId, keySet);
  }
  return keySet;
}

async function authenticate(raw) {
  const body = JSON.parse(raw);
  if (typeof body.client_id !== 'string' || body.client_assertion_type !== core.JWT_BEARER_ASSERTION_TYPE)
    return { authenticated: false, error: 'invalid_client' };
  const keySet = await keySetOf(body.client_id);
  if (!keySet) return { authenticated: false, error: 'invalid_client', reason: 'client.pending' };
  try {
    await jose.jwtVerify(body.client_assertion, keySet, {
      algorithms: [...core.ASSERTION_ALGS],
      issuer: body.client_id,
      subject: body.client_id,
      audience: [authorizationServer.issuer, authorizationServer.token_endpoint],
      requiredClaims: ['exp', 'jti'],
      maxTokenAge: policy.max_assertion_lifetime_seconds,
      clockTolerance: 60,
    });
    return { authenticated: true, method: 'private_key_jwt' };
  } catch (e) {
    return { authenticated: false, error: 'invalid_client', error_description: e.message };
  }
}

const CHECK_PATH = /^\/v1\/tenants\/[^/]+\/authorize\/check$/;
const AUTHENTICATE_PATH = /^\/v1\/tenants\/[^/]+\/clients\/authenticate$/;

// The same event-loop stall measure as the gateway's prom-client gauge (resolution 10 ms,
// reset on every read), so the two servers' longest stalls in a window compare like for like.
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return send(res, 200, { status: 'ok' });
  if (req.method === 'GET' && req.url === '/loop-delay') {
    const maxMs = loopDelay.max / 1e6;
    loopDelay.reset();
    return send(res, 200, { max_ms: maxMs });
  }
  if (req.method === 'POST' && AUTHENTICATE_PATH.test(req.url)) {
    if (!authorized(req)) return send(res, 401, { error: 'invalid_token' });
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () =>
      authenticate(Buffer.concat(chunks).toString('utf8')).then(
        (answer) => send(res, 200, answer),
        (e) => send(res, 400, { error: 'invalid_request', error_description: e.message }),
      ),
    );
    return;
  }
  const route =
    req.method !== 'POST' ? null : CHECK_PATH.test(req.url) ? hit : req.url === '/inline/check' ? inline : null;
  if (!route) return send(res, 404, { error: 'not_found' });
  if (!authorized(req)) return send(res, 401, { error: 'invalid_token' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const parsed = parseCheck(Buffer.concat(chunks).toString('utf8'));
    if (parsed.error) return send(res, 400, { error: 'invalid_request', error_description: parsed.error });
    if (parsed.decision) return send(res, 200, parsed.decision);
    route(parsed.body, parsed.url).then(
      (decision) => send(res, 200, decision),
      (e) => send(res, 500, { error: 'server_error', error_description: e.message }),
    );
  });
});

server.keepAliveTimeout = 72_000; // as Fastify's default, so both keep their connections alike
server.listen(Number(env.PORT), '127.0.0.1');

// gRPC: CheckAuthorization only, with the proto loaded as the gateway loads it.
function grpcFailure(callback, code, error, description) {
  const metadata = new grpc.Metadata();
  metadata.set('cimd-error', error);
  callback({ code, details: `${error}: ${description}`, metadata });
}

function checkAuthorization(call, callback) {
  const [header] = call.metadata.get('authorization');
  if (
    typeof header !== 'string' ||
    !header.startsWith('Bearer ') ||
    !timingSafeEqual(sha256(header.slice(7)), tokenHash)
  )
    return grpcFailure(callback, grpc.status.UNAUTHENTICATED, 'invalid_token', 'not the bench token');
  const body = call.request;
  // proto3: an unset string field is absent (defaults: false) or, from some senders, "".
  if (!body.client_id || !body.redirect_uri)
    return grpcFailure(
      callback,
      grpc.status.INVALID_ARGUMENT,
      'invalid_request',
      'client_id and redirect_uri are required',
    );
  const url = core.checkClientIdUrl(body.client_id);
  if (!url.url) {
    const document = { valid: false, errors: url.errors, warnings: [] };
    return callback(null, core.decideAuthorization({ request: body, document }));
  }
  if (core.evaluateClientIdPolicy(url.url, policy)) {
    const document = { valid: false, errors: [], warnings: [] };
    return callback(null, core.decideAuthorization({ request: body, document, policy }));
  }
  hit(body, url).then(
    (decision) => callback(null, decision),
    (e) => grpcFailure(callback, grpc.status.INTERNAL, 'server_error', e.message),
  );
}

let grpcServer;
if (env.GRPC_PORT) {
  const protoPath = path.join(DIST, 'proto', 'cimd', 'v1', 'gateway.proto');
  const definition = protoLoader.loadSync(protoPath, contracts.PROTO_LOADER_OPTIONS);
  const loaded = grpc.loadPackageDefinition(definition);
  grpcServer = new grpc.Server();
  grpcServer.addService(loaded.cimd.v1.Gateway.service, { CheckAuthorization: checkAuthorization });
  grpcServer.bindAsync(`127.0.0.1:${env.GRPC_PORT}`, grpc.ServerCredentials.createInsecure(), (e) => {
    if (e) {
      process.stderr.write(`gRPC: ${e.message}\n`);
      process.exit(1);
    }
  });
}

function shutdown() {
  grpcServer?.forceShutdown();
  server.close();
  server.closeAllConnections();
  redis.disconnect();
  fetcher.close().finally(() => process.exit(0));
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
