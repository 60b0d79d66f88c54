'use strict';
/**
 * The measurement authorize_hit (HTTP) and authorize_hit_grpc share, whatever carries the checks:
 *
 * - warmUp(): both servers at their maximum rate, not counted.
 * - maxRateRounds(): then the maximum rate of each, alternating gateway and baseline `rounds`
 *   times so both see the same machine, with the CPU time each server spends per answered check.
 * - halfRateWindows(): both servers, one after the other, open loop at half the gateway's
 *   maximum rate, with each server's longest event-loop stall within its window.
 * - comparison(): the metrics and details both scenarios report from those two.
 *
 * `load`: bench/lib/load.js (HTTP) or bench/lib/grpc-load.js (gRPC), whose maxRate() and paced()
 * are given `side(name)` (name 'gateway' or 'baseline'): that side's target, requests and check.
 */
const { round } = require('./load');
const { cpuUsage } = require('./cpu');

const SIDES = ['gateway', 'baseline'];
const average = (list) => round(list.reduce((a, x) => a + x, 0) / list.length, 0);
const mean = (list, k) => round(list.reduce((a, x) => a + x[k], 0) / list.length, 0);

/** Both servers at their maximum rate for `warmupS` each, not counted. */
async function warmUp({ log, load, side, warmupS }) {
  log(`  warm-up ${warmupS} s each`);
  for (const name of SIDES) await load.maxRate({ ...side(name), durationS: warmupS });
}

/**
 * After warmUp(). `failure(result)`: why a maximum-rate run does not count (answers other than
 * an allow), or undefined; `unit`: 'req/s' or 'calls/s' for the log.
 */
async function maxRateRounds({ stack, log, load, side, maxS, rounds, unit, failure }) {
  const runs = { gateway: [], baseline: [] };
  const cpu = {};
  const cpuPerRequest = { gateway: [], baseline: [] };
  for (let r = 0; r < rounds; r++) {
    for (const name of SIDES) {
      const usage = cpuUsage(stack.pids());
      const result = await load.maxRate({ ...side(name), durationS: maxS });
      cpu[`${name}_max`] = usage.stop();
      // CPU time of the server per answered check (µs): the cost of one check, whatever else ran.
      cpuPerRequest[name].push((cpu[`${name}_max`][name] * 10_000) / result.rps);
      const why = failure(result);
      if (why) throw new Error(`${name}: ${JSON.stringify(result)} (${why})`);
      runs[name].push(result);
      log(`  ${name} max: ${result.rps} ${unit} (p50 ${result.p50_ms} ms, p99 ${result.p99_ms} ms)`);
    }
  }
  return { runs, cpu, cpuPerRequest, rps: mean(runs.gateway, 'rps'), baselineRps: mean(runs.baseline, 'rps') };
}

/** Both servers open loop at half `max.rps` for `pacedS` each; adds their CPU to `max.cpu`. */
async function halfRateWindows({ stack, log, load, side, pacedS, unit, max }) {
  const { cpu } = max;
  const rate = Math.max(1, Math.round(max.rps / 2));
  log(`  open loop at ${rate} ${unit} (half the gateway's maximum), ${pacedS} s each`);
  const pacedWarmupS = Math.min(2, pacedS); // at the same rate, not counted (bench/lib/load.js openLoop)
  // Each server's longest event-loop stall within its window (warm-up included), read before
  // and after it: prom-client resets the gateway's histogram on every scrape, the baseline's
  // /loop-delay resets its own on every read.
  const LAG_MAX = 'cimd_gateway_nodejs_eventloop_lag_max_seconds';
  const loopMax = {
    gateway: async () => ((await stack.gatewayMetrics(LAG_MAX))[''] ?? NaN) * 1000,
    baseline: async () => (await (await fetch(`${stack.baselineUrl}/loop-delay`)).json()).max_ms,
  };
  const windows = {};
  for (const name of SIDES) {
    const usage = cpuUsage(stack.pids());
    await loopMax[name]();
    windows[name] = await load.paced({ ...side(name), durationS: pacedS, rate, warmupS: pacedWarmupS });
    windows[name].server_loop_max_ms = round(await loopMax[name]());
    cpu[`${name}_half`] = usage.stop();
  }
  for (const name of SIDES) {
    const r = windows[name];
    if (r.bad || r.errors) throw new Error(`${name} at ${rate} ${unit}: ${r.bad} bad answers, ${r.errors} errors`);
    log(
      `  ${name} at ${rate} ${unit}: p50 ${r.p50_ms} ms, p99 ${r.p99_ms} ms; longest stall of the load generator ${r.harness_loop_max_ms} ms` +
        `, of the ${name} ${r.server_loop_max_ms} ms`,
    );
  }
  return { rate, ...windows };
}

/** What both scenarios report: `metrics` (their shared keys) and `detail`. */
function comparison(max, half) {
  const { runs, rps, baselineRps, cpu, cpuPerRequest } = max;
  const { gateway, baseline } = half;
  const metrics = {
    rps,
    baseline_rps: baselineRps,
    ratio: round(rps / baselineRps, 2),
    p50_ms: gateway.p50_ms,
    p99_ms: gateway.p99_ms,
    baseline_p50_ms: baseline.p50_ms,
    baseline_p99_ms: baseline.p99_ms,
    half_rate_rps: half.rate,
    cpu_us_per_request: average(cpuPerRequest.gateway),
    baseline_cpu_us_per_request: average(cpuPerRequest.baseline),
    gateway_loop_max_ms: gateway.server_loop_max_ms,
    baseline_loop_max_ms: baseline.server_loop_max_ms,
    harness_loop_max_ms: Math.max(gateway.harness_loop_max_ms, baseline.harness_loop_max_ms),
    p99_at_max_ms: runs.gateway[runs.gateway.length - 1].p99_ms,
    baseline_p99_at_max_ms: runs.baseline[runs.baseline.length - 1].p99_ms,
  };
  return { metrics, detail: { runs, paced: { gateway, baseline }, cpu_percent: cpu } };
}

/** The target of both hit scenarios: faster and cheaper than the hand-written server, its tail near the baseline's. */
function hitTarget(m) {
  return {
    text: 'ratio ≥ 1.0, CPU per check ≤ the baseline’s, p99 ≤ max(10 ms, 1.5 × the baseline’s) at half the maximum rate',
    met:
      m.ratio >= 1 &&
      m.cpu_us_per_request <= m.baseline_cpu_us_per_request &&
      m.p99_ms <= Math.max(10, 1.5 * m.baseline_p99_ms),
  };
}

module.exports = {
  hitTarget,
  warmUp,
  maxRateRounds,
  halfRateWindows,
  comparison,
};
