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
const { cpuUsage } = require('../lib/cpu');
const { check, eachLimit, serveClients } = require('./prime');

const ALLOW = (body) => body.includes('"decision":"allow"');
const average = (list) => round(list.reduce((a, x) => a + x, 0) / list.length, 0);

module.exports = {
  name: 'authorize_hit',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const { clients: count, connections, warmupS, maxS, pacedS, rounds } = sizes.hit;
    const clients = stack.spreadHosts.flatMap((host, h) =>
      serveClients(ctx, {
        count: Math.ceil(count / stack.spreadHosts.length),
        host,
        prefix: `hit${h}`,
      }),
    );
    clients.length = count;
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

    log(`  warm-up ${warmupS} s each`);
    await maxRate({ ...side('gateway'), durationS: warmupS });
    await maxRate({ ...side('baseline'), durationS: warmupS });

    const LOCAL = 'cimd_client_local_cache_lookups_total';
    const local0 = await stack.gatewayMetrics(LOCAL);
    const runs = { gateway: [], baseline: [] };
    const cpu = {};
    const cpuPerRequest = { gateway: [], baseline: [] };
    for (let r = 0; r < rounds; r++) {
      for (const name of ['gateway', 'baseline']) {
        const usage = cpuUsage(stack.pids());
        const result = await maxRate({ ...side(name), durationS: maxS });
        cpu[`${name}_max`] = usage.stop();
        // CPU time of the server per answered request (µs): the cost of one check, whatever else ran.
        cpuPerRequest[name].push((cpu[`${name}_max`][name] * 10_000) / result.rps);
        if (result.non2xx || result.errors || result.mismatches)
          throw new Error(`${name}: ${JSON.stringify(result)} (responses that were not an allow)`);
        runs[name].push(result);
        log(`  ${name} max: ${result.rps} req/s (p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms)`);
      }
    }
    const mean = (list, k) => round(list.reduce((a, x) => a + x[k], 0) / list.length, 0);
    const rps = mean(runs.gateway, 'rps');
    const baselineRps = mean(runs.baseline, 'rps');

    // The share of the gateway's checks answered from its in-process copy (CIMD_LOCAL_CACHE_MS)
    // rather than a Redis read; the baseline reads Redis for every check.
    const local1 = await stack.gatewayMetrics(LOCAL);
    const delta = (labels) => (local1[labels] ?? 0) - (local0[labels] ?? 0);
    const localHits = delta('{result="hit"}');
    const localLookups = localHits + delta('{result="miss"}');

    const rate = Math.max(1, Math.round(rps / 2));
    log(`  open loop at ${rate} req/s (half the gateway's maximum), ${pacedS} s each`);
    let usage = cpuUsage(stack.pids());
    const pacedWarmupS = Math.min(2, pacedS); // at the same rate, not counted (bench/lib/load.js paced)
    // prom-client resets its event-loop delay histogram on every scrape: the read after the
    // window gives the gateway's longest stall within it (warm-up included).
    const LAG_MAX = 'cimd_gateway_nodejs_eventloop_lag_max_seconds';
    await stack.gatewayMetrics(LAG_MAX);
    const gateway = await paced({ ...side('gateway'), durationS: pacedS, rate, warmupS: pacedWarmupS });
    gateway.server_loop_max_ms = round(((await stack.gatewayMetrics(LAG_MAX))[''] ?? NaN) * 1000);
    cpu.gateway_half = usage.stop();
    usage = cpuUsage(stack.pids());
    const baselineLoopMax = async () => (await (await fetch(`${stack.baselineUrl}/loop-delay`)).json()).max_ms;
    await baselineLoopMax();
    const baseline = await paced({ ...side('baseline'), durationS: pacedS, rate, warmupS: pacedWarmupS });
    baseline.server_loop_max_ms = round(await baselineLoopMax());
    cpu.baseline_half = usage.stop();
    for (const [name, r] of [
      ['gateway', gateway],
      ['baseline', baseline],
    ]) {
      if (r.bad || r.errors) throw new Error(`${name} at ${rate} req/s: ${r.bad} bad answers, ${r.errors} errors`);
      log(
        `  ${name} at ${rate} req/s: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms; longest stall of the load generator ${r.harness_loop_max_ms} ms` +
          `, of the ${name} ${r.server_loop_max_ms} ms`,
      );
    }

    return {
      metrics: {
        rps,
        baseline_rps: baselineRps,
        ratio: round(rps / baselineRps, 2),
        p50_ms: gateway.p50_ms,
        p99_ms: gateway.p99_ms,
        baseline_p99_ms: baseline.p99_ms,
        baseline_p50_ms: baseline.p50_ms,
        half_rate_rps: rate,
        local_cache_hit_ratio: localLookups > 0 ? round(localHits / localLookups, 3) : 0,
        cpu_us_per_request: average(cpuPerRequest.gateway),
        baseline_cpu_us_per_request: average(cpuPerRequest.baseline),
        gateway_loop_max_ms: gateway.server_loop_max_ms,
        baseline_loop_max_ms: baseline.server_loop_max_ms,
        harness_loop_max_ms: Math.max(gateway.harness_loop_max_ms, baseline.harness_loop_max_ms),
        p99_at_max_ms: runs.gateway[runs.gateway.length - 1].p99_ms,
        baseline_p99_at_max_ms: runs.baseline[runs.baseline.length - 1].p99_ms,
        clients: count,
        connections,
        max_duration_s: maxS,
        paced_duration_s: pacedS,
      },
      detail: { runs, paced: { gateway, baseline }, cpu_percent: cpu },
    };
  },
  target(m) {
    return {
      text: 'ratio ≥ 0.8 and p99 ≤ 10 ms at half the maximum rate',
      met: m.ratio >= 0.8 && m.p99_ms <= 10,
    };
  },
};
