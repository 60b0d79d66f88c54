'use strict';
/**
 * authorize_hit_grpc: cimd.v1.Gateway/CheckAuthorization for cached clients over ONE gRPC
 * channel with many calls in flight, against the baseline's bare @grpc/grpc-js listener doing
 * the same read and decision (bench/baseline/server.js), in the same run. The method of
 * authorize_hit:
 *
 * 1. The clients (the same ones as authorize_hit: already cached if it ran) are checked once
 *    through the gateway's gRPC API, which fetches those not cached yet and warms its gRPC path.
 * 2. Warm-up of both servers, then the maximum rate of each (closed loop, `concurrency` calls
 *    in flight on one channel), alternating gateway and baseline `rounds` times, with the CPU
 *    time each server spends per check.
 * 3. Latency at half of the gateway's maximum rate, open loop, for both at that same rate.
 */
const grpcLoad = require('../lib/grpc-load');
const { comparison, halfRateWindows, hitTarget, maxRateRounds, warmUp } = require('../lib/hit-rounds');
const { eachLimit, hitClients } = require('./prime');

const ALLOW = (response) => response.decision === 'allow';

/** The CheckAuthorizationRequest of a check body (prime.js writes them as JSON for HTTP). */
function requestOf(tenant, body) {
  return { tenant, ...JSON.parse(body) };
}

module.exports = {
  name: 'authorize_hit_grpc',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const { clients: count, concurrency, warmupS, maxS, pacedS, rounds } = sizes.hitGrpc;
    const clients = hitClients(ctx, count);
    const requests = clients.map((c) => requestOf(stack.tenant, c.check));
    const metadata = grpcLoad.bearer(stack.apiKey);
    const channels = {};
    try {
      channels.gateway = await grpcLoad.connect(stack.grpcAddress);
      channels.baseline = await grpcLoad.connect(stack.baselineGrpcAddress);
      log(`  caching ${count} clients through the gateway's gRPC API (those authorize_hit did not)`);
      // A check answered "pending" (its fetch outlasted CIMD_AUTHORIZE_WAIT_MS on a busy machine)
      // is asked again until the fetch has landed.
      let waiting = requests;
      let statuses = {};
      for (const end = Date.now() + 120_000; waiting.length > 0;) {
        const pending = [];
        statuses = {};
        await eachLimit(waiting, 32, async (request) => {
          const { error, response } = await grpcLoad.call(channels.gateway, request, metadata);
          const key = error
            ? `error ${error.details}`
            : `${response.decision} ${response.cache?.status ?? response.reason}`;
          statuses[key] = (statuses[key] ?? 0) + 1;
          if (response?.decision === 'pending') pending.push(request);
          else if (!response || !ALLOW(response)) throw new Error(`priming: ${request.client_id}: ${key}`);
        });
        waiting = pending;
        if (waiting.length > 0 && Date.now() > end)
          throw new Error(`priming: ${waiting.length} of ${count} still pending (${JSON.stringify(statuses)})`);
        if (waiting.length > 0) await new Promise((r) => setTimeout(r, 200));
      }
      await stack.eventsSettled();

      const side = (name) => ({ client: channels[name], metadata, requests, concurrency, verify: ALLOW });

      const common = { stack, log, load: grpcLoad, side, unit: 'calls/s' };
      await warmUp({ ...common, warmupS });
      const max = await maxRateRounds({
        ...common,
        maxS,
        rounds,
        failure: (r) => (r.bad || r.errors ? 'answers that were not an allow' : undefined),
      });
      const half = await halfRateWindows({ ...common, pacedS, max });
      const { metrics, detail } = comparison(max, half);

      return {
        metrics: {
          ...metrics,
          clients: count,
          concurrency,
          max_duration_s: maxS,
          paced_duration_s: pacedS,
        },
        detail,
      };
    } finally {
      channels.gateway?.close();
      channels.baseline?.close();
    }
  },
  target: hitTarget,
};
