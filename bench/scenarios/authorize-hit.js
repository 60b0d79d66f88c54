'use strict';
/**
 * authorize_hit: POST /v1/tenants/{t}/authorize/check for cached clients, against the
 * baseline server (node:http + ioredis doing the same read and decision) in the same run.
 *
 * 1. The clients are fetched once through the real path (checks → fetcher → origin), which
 *    also warms the gateway (tenant policy and API key in its process caches, JIT).
 * 2. Warm-up of both servers, then the maximum rate of each (autocannon, closed loop),
 *    alternating gateway and baseline `rounds` times.
 * 3. Latency at half of the gateway's maximum rate, open loop, for both at that same rate.
 *
 * Also reported: the CPU time each server spends per check at its maximum rate (what holds
 * however busy the machine is), and the share of the gateway's checks answered from its
 * in-process copy of the entry (CIMD_LOCAL_CACHE_MS) rather than read from Redis.
 */
const { maxRate, paced, round } = require('../lib/load');
const { comparison, halfRateWindows, hitTarget, maxRateRounds, warmUp } = require('../lib/hit-rounds');
const { check, eachLimit, hitClients } = require('./prime');

const ALLOW = (body) => body.includes('"decision":"allow"');

module.exports = {
  name: 'authorize_hit',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const { clients: count, connections, warmupS, maxS, pacedS, rounds } = sizes.hit;
    const clients = hitClients(ctx, count);
    log(`  caching ${count} clients through the gateway and the fetcher`);
    const statuses = {};
    await eachLimit(clients, 32, async (c) => {
      const r = await check(stack, c.check);
      const key = `${r.status} ${r.body.decision} ${r.body.cache?.status ?? r.body.reason}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
    });
    const primed = statuses['200 allow fetched'] ?? 0;
    if (primed !== count) throw new Error(`priming: expected ${count} fetched, got ${JSON.stringify(statuses)}`);
    await stack.eventsSettled();

    const bodies = clients.map((c) => c.check);
    const side = (name) => ({
      url: `${name === 'gateway' ? stack.url : stack.baselineUrl}/v1/tenants/${stack.tenant}/authorize/check`,
      headers: { authorization: `Bearer ${stack.apiKey}` },
      bodies,
      connections,
      verify: ALLOW,
    });

    const common = { stack, log, load: { maxRate, paced }, side, unit: 'req/s' };
    await warmUp({ ...common, warmupS });

    const LOCAL = 'cimd_client_local_cache_lookups_total';
    const local0 = await stack.gatewayMetrics(LOCAL);
    const max = await maxRateRounds({
      ...common,
      maxS,
      rounds,
      failure: (r) => (r.non2xx || r.errors || r.mismatches ? 'responses that were not an allow' : undefined),
    });

    // The share of the gateway's checks answered from its in-process copy (CIMD_LOCAL_CACHE_MS)
    // rather than a Redis read; the baseline reads Redis for every check.
    const local1 = await stack.gatewayMetrics(LOCAL);
    const delta = (labels) => (local1[labels] ?? 0) - (local0[labels] ?? 0);
    const localHits = delta('{result="hit"}');
    const localLookups = localHits + delta('{result="miss"}');

    const half = await halfRateWindows({ ...common, pacedS, max });
    const { metrics, detail } = comparison(max, half);

    return {
      metrics: {
        ...metrics,
        local_cache_hit_ratio: localLookups > 0 ? round(localHits / localLookups, 3) : 0,
        clients: count,
        connections,
        max_duration_s: maxS,
        paced_duration_s: pacedS,
      },
      detail,
    };
  },
  target: hitTarget,
};
