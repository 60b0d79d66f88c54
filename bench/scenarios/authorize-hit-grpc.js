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
const { round } = require('../lib/load');
const grpcLoad = require('../lib/grpc-load');
const { cpuUsage } = require('../lib/cpu');
const { eachLimit, serveClients } = require('./prime');

const ALLOW = (response) => response.decision === 'allow';
const average = (list) => round(list.reduce((a, x) => a + x, 0) / list.length, 0);

/** The CheckAuthorizationRequest of a check body (prime.js writes them as JSON for HTTP). */
function requestOf(tenant, body) {
  return { tenant, ...JSON.parse(body) };
}

module.exports = {
  name: 'authorize_hit_grpc',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const { clients: count, concurrency, warmupS, maxS, pacedS, rounds } = sizes.hitGrpc;
    const clients = stack.spreadHosts.flatMap((host, h) =>
      serveClients(ctx, {
        count: Math.ceil(count / stack.spreadHosts.length),
        host,
        prefix: `hit${h}`,
      }),
    );
    clients.length = count;
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

      log(`  warm-up ${warmupS} s each`);
      await grpcLoad.maxRate({ ...side('gateway'), durationS: warmupS });
      await grpcLoad.maxRate({ ...side('baseline'), durationS: warmupS });

      const runs = { gateway: [], baseline: [] };
      const cpu = {};
      const cpuPerRequest = { gateway: [], baseline: [] };
      for (let r = 0; r < rounds; r++) {
        for (const name of ['gateway', 'baseline']) {
          const usage = cpuUsage(stack.pids());
          const result = await grpcLoad.maxRate({ ...side(name), durationS: maxS });
          cpu[`${name}_max`] = usage.stop();
          // CPU time of the server per answered call (µs): the cost of one check, whatever else ran.
          cpuPerRequest[name].push((cpu[`${name}_max`][name] * 10_000) / result.rps);
          if (result.bad || result.errors)
            throw new Error(`${name}: ${JSON.stringify(result)} (answers that were not an allow)`);
          runs[name].push(result);
          log(`  ${name} max: ${result.rps} calls/s (p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms)`);
        }
      }
      const mean = (list, k) => round(list.reduce((a, x) => a + x[k], 0) / list.length, 0);
      const rps = mean(runs.gateway, 'rps');
      const baselineRps = mean(runs.baseline, 'rps');

      const rate = Math.max(1, Math.round(rps / 2));
      log(`  open loop at ${rate} calls/s (half the gateway's maximum), ${pacedS} s each`);
      const pacedWarmupS = Math.min(2, pacedS);
      // As authorize_hit: each server's longest event-loop stall within its paced window.
      const LAG_MAX = 'cimd_gateway_nodejs_eventloop_lag_max_seconds';
      let usage = cpuUsage(stack.pids());
      await stack.gatewayMetrics(LAG_MAX);
      const gateway = await grpcLoad.paced({ ...side('gateway'), durationS: pacedS, rate, warmupS: pacedWarmupS });
      gateway.server_loop_max_ms = round(((await stack.gatewayMetrics(LAG_MAX))[''] ?? NaN) * 1000);
      cpu.gateway_half = usage.stop();
      usage = cpuUsage(stack.pids());
      const baselineLoopMax = async () => (await (await fetch(`${stack.baselineUrl}/loop-delay`)).json()).max_ms;
      await baselineLoopMax();
      const baseline = await grpcLoad.paced({ ...side('baseline'), durationS: pacedS, rate, warmupS: pacedWarmupS });
      baseline.server_loop_max_ms = round(await baselineLoopMax());
      cpu.baseline_half = usage.stop();
      for (const [name, r] of [
        ['gateway', gateway],
        ['baseline', baseline],
      ]) {
        if (r.bad || r.errors) throw new Error(`${name} at ${rate} calls/s: ${r.bad} bad answers, ${r.errors} errors`);
        log(
          `  ${name} at ${rate} calls/s: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms; longest stall of the load generator ${r.harness_loop_max_ms} ms` +
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
          baseline_p50_ms: baseline.p50_ms,
          baseline_p99_ms: baseline.p99_ms,
          half_rate_rps: rate,
          cpu_us_per_request: average(cpuPerRequest.gateway),
          baseline_cpu_us_per_request: average(cpuPerRequest.baseline),
          gateway_loop_max_ms: gateway.server_loop_max_ms,
          baseline_loop_max_ms: baseline.server_loop_max_ms,
          harness_loop_max_ms: Math.max(gateway.harness_loop_max_ms, baseline.harness_loop_max_ms),
          p99_at_max_ms: runs.gateway[runs.gateway.length - 1].p99_ms,
          baseline_p99_at_max_ms: runs.baseline[runs.baseline.length - 1].p99_ms,
          clients: count,
          concurrency,
          max_duration_s: maxS,
          paced_duration_s: pacedS,
        },
        detail: { runs, paced: { gateway, baseline }, cpu_percent: cpu },
      };
    } finally {
      channels.gateway?.close();
      channels.baseline?.close();
    }
  },
  target(m) {
    return {
      text: 'ratio ≥ 1.0, CPU per check ≤ the baseline’s, p99 ≤ max(10 ms, 1.5 × the baseline’s) at half the maximum rate',
      met:
        m.ratio >= 1 &&
        m.cpu_us_per_request <= m.baseline_cpu_us_per_request &&
        m.p99_ms <= Math.max(10, 1.5 * m.baseline_p99_ms),
    };
  },
};
