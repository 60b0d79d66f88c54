'use strict';
/**
 * Load generation over gRPC (cimd.v1.Gateway), the twin of load.js: ONE @grpc/grpc-js channel
 * per side (HTTP/2 multiplexes the calls on its one connection, as a real caller's stub does),
 * the same requests, durations and rates for both sides of a comparison.
 *
 * - maxRate(): closed loop, `concurrency` calls in flight, each slot starting its next call when
 *   the previous one is answered: the highest sustained rate.
 * - paced(): open loop at a fixed rate, calls spread evenly in time, latency counted from when
 *   each call was due (no coordinated omission), as load.js's paced().
 */
const path = require('node:path');
const { existsSync } = require('node:fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { contracts, DIST, ROOT } = require('./dist');
const { openLoop, round, summary } = require('./load');

let gatewayService;

/** The cimd.v1.Gateway client constructor, the proto loaded as the gateway loads it. */
function gatewayClientConstructor() {
  if (!gatewayService) {
    const built = path.join(DIST, 'proto', 'cimd', 'v1', 'gateway.proto');
    const protoPath = existsSync(built) ? built : path.join(ROOT, 'proto', 'cimd', 'v1', 'gateway.proto');
    const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, contracts.PROTO_LOADER_OPTIONS));
    gatewayService = loaded.cimd.v1.Gateway;
  }
  return gatewayService;
}

/** One channel to `address`, connected (or an error within `ms`). */
async function connect(address, ms = 30_000) {
  const Gateway = gatewayClientConstructor();
  const client = new Gateway(address, grpc.credentials.createInsecure(), {
    // Distinct channel options give each side its own channel (grpc-js shares subchannels otherwise).
    'grpc.primary_user_agent': `cimd-bench ${address}`,
  });
  await new Promise((resolve, reject) =>
    client.waitForReady(Date.now() + ms, (e) => (e ? reject(new Error(`${address}: ${e.message}`)) : resolve())),
  );
  return client;
}

/** `authorization: Bearer <token>`; one Metadata for every call (grpc-js does not change it). */
function bearer(token) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

/** One CheckAuthorization call: { error } or { response }, never a rejection. */
function call(client, request, metadata, deadlineMs = 15_000) {
  return new Promise((resolve) =>
    client.CheckAuthorization(request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) =>
      resolve(error ? { error } : { response }),
    ),
  );
}

/** CheckAuthorization with `requests` (cycled) as fast as `concurrency` calls in flight allow. */
async function maxRate({ client, metadata, requests, concurrency, durationS, verify }) {
  let next = 0;
  let ok = 0;
  let bad = 0;
  let errors = 0;
  const latencies = [];
  const started = performance.now();
  const end = started + durationS * 1000;
  let lastEnd = started;
  await new Promise((resolve) => {
    let running = concurrency;
    const slot = () => {
      if (performance.now() >= end) {
        if (--running === 0) resolve();
        return;
      }
      const t0 = performance.now();
      client.CheckAuthorization(requests[next++ % requests.length], metadata, (error, response) => {
        const t1 = performance.now();
        lastEnd = t1;
        if (error) errors++;
        else if (verify && !verify(response)) bad++;
        else {
          ok++;
          latencies.push(t1 - t0);
        }
        slot();
      });
    };
    for (let i = 0; i < concurrency; i++) slot();
  });
  const seconds = (lastEnd - started) / 1000;
  const { p50_ms, p99_ms } = summary(latencies);
  return {
    rps: round(ok / seconds, 0),
    p50_ms,
    p99_ms,
    calls: ok + bad + errors,
    bad,
    errors,
    duration_s: round(seconds, 1),
  };
}

/**
 * CheckAuthorization with `requests` (cycled) at `rate` calls per second for `warmupS` +
 * `durationS`, open loop; latencies of the last `durationS` only (see load.js's paced()).
 */
async function paced({ client, metadata, requests, durationS, rate, verify, warmupS = 2 }) {
  return openLoop({
    rate,
    durationS,
    warmupS,
    send: (k, answer) =>
      client.CheckAuthorization(requests[k % requests.length], metadata, (error, response) => {
        const end = performance.now();
        answer(error ? 'error' : verify && !verify(response) ? 'bad' : 'ok', end);
      }),
  });
}

module.exports = { connect, bearer, call, maxRate, paced };
