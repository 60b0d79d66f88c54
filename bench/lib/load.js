'use strict';
/**
 * Load generation. Both sides of every comparison go through the same function with the
 * same connections, duration and request bodies.
 *
 * - maxRate(): autocannon, closed loop (each connection sends its next request when the
 *   previous answer arrives): the highest sustained rate.
 * - paced(): open loop at a fixed rate, requests spread evenly in time (one every 1/rate s),
 *   latency measured from when each request was due, so a stall counts against the server
 *   (no coordinated omission). autocannon's own `overallRate` is not used for latencies: it
 *   lets every connection send its whole per-second quota back to back at the top of each
 *   second, so "half the maximum rate" is the maximum rate for half of every second, and its
 *   coordinated-omission correction assumes a 1 ms interval.
 */
const { monitorEventLoopDelay } = require('node:perf_hooks');
const autocannon = require('autocannon');
const { Pool } = require('undici');

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

function summary(latencies) {
  const sorted = Float64Array.from(latencies.filter((x) => Number.isFinite(x))).sort();
  return {
    count: sorted.length,
    p50_ms: round(percentile(sorted, 50)),
    p90_ms: round(percentile(sorted, 90)),
    p99_ms: round(percentile(sorted, 99)),
    max_ms: round(sorted[sorted.length - 1] ?? NaN),
  };
}

function round(x, digits = 2) {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** POST `bodies` (cycled) to `url` as fast as `connections` closed-loop connections allow. */
async function maxRate({ url, headers, bodies, connections, durationS, verify }) {
  let next = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    connections,
    pipelining: 1,
    duration: durationS,
    requests: [
      {
        setupRequest(req) {
          req.body = bodies[next++ % bodies.length];
          return req;
        },
      },
    ],
    ...(verify ? { verifyBody: verify } : {}),
  });
  const ok = result['2xx'] - result.mismatches;
  return {
    rps: round(ok / (result.duration || durationS), 0),
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    mismatches: result.mismatches,
    duration_s: round(result.duration, 1),
  };
}

/**
 * The open loop both paced() share: `send(k, answer)` is called for k = 0, 1, … at `rate` per
 * second for `warmupS` + `durationS`, each at its due time whatever the answers before it;
 * `answer(outcome, end)` once per send, outcome 'ok', 'bad' (answered, but not as expected)
 * or 'error' (no answer), `end` the performance.now() at which the answer (or the error, where
 * the transport reports one) was read. The latency of an 'ok' is counted from when its send
 * was due (no coordinated omission), and only after the warm-up.
 */
async function openLoop({ rate, durationS, warmupS, send }) {
  const skip = Math.round(rate * warmupS);
  const total = skip + Math.max(1, Math.round(rate * durationS));
  const interval = 1000 / rate;
  const latencies = new Array(total).fill(NaN);
  let bad = 0;
  let errors = 0;
  let done = 0;
  const start = performance.now() + 50;
  let lastEnd = start;
  // The load generator's own stalls: a request sent late, or an answer read late, counts
  // against the server measured, so the report shows how long this process itself stalled.
  const harnessDelay = monitorEventLoopDelay({ resolution: 1 });
  const measureFrom = setTimeout(() => harnessDelay.enable(), 50 + warmupS * 1000);
  await new Promise((resolve) => {
    const fire = (k) => {
      const due = start + k * interval;
      send(k, (outcome, end) => {
        if (end !== undefined) lastEnd = Math.max(lastEnd, end);
        if (outcome === 'error') errors++;
        else if (outcome === 'bad') bad++;
        else if (k >= skip) latencies[k] = end - due;
        if (++done === total) resolve();
      });
    };
    let i = 0;
    const tick = () => {
      const now = performance.now();
      while (i < total && start + i * interval <= now) fire(i++);
      if (i < total) setTimeout(tick, Math.max(0, start + i * interval - performance.now() - 0.5));
    };
    setTimeout(tick, 40);
  });
  clearTimeout(measureFrom);
  harnessDelay.disable();
  return {
    rate,
    achieved_rps: round((total - bad - errors) / ((lastEnd - start) / 1000), 0),
    warmup_s: warmupS,
    ...summary(latencies),
    bad,
    errors,
    harness_loop_max_ms: round(harnessDelay.max / 1e6),
  };
}

/**
 * POST `bodies` (cycled) at `rate` requests per second for `warmupS` + `durationS`, open loop;
 * latencies of the last `durationS` only. The warm-up at the same rate lets the pool open its
 * connections and the server settle at that rate: a backlog built while 32 connections are
 * being opened at once says nothing about the server at a steady rate.
 */
async function paced({ url, headers, bodies, connections, durationS, rate, verify, warmupS = 2 }) {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const requestHeaders = { 'content-type': 'application/json', ...headers };
  const result = await openLoop({
    rate,
    durationS,
    warmupS,
    send: (k, answer) =>
      pool
        .request({ path: target.pathname, method: 'POST', headers: requestHeaders, body: bodies[k % bodies.length] })
        .then(async (res) => {
          const text = await res.body.text();
          const end = performance.now();
          answer(res.statusCode !== 200 || (verify && !verify(text)) ? 'bad' : 'ok', end);
        })
        .catch(() => answer('error')),
  });
  await pool.close();
  return result;
}

/** Time `fn` once (ms). */
async function timed(fn) {
  const t0 = performance.now();
  const value = await fn();
  return { ms: performance.now() - t0, value };
}

module.exports = { maxRate, paced, openLoop, percentile, summary, round, timed };
