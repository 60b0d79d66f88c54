'use strict';
/**
 * fetcher_throughput: fetch + validate + write-back jobs per second of the one fetcher
 * process, for distinct clients on the local origin spread over 16 host names (so the
 * fleet-wide per-origin limit, set explicitly, does not bind). The jobs are enqueued with
 * the queue paused (@cimd/contracts enqueueFetch, as the gateway does), then the queue is
 * resumed and the clock runs until the fetcher has announced every write (fetch-done with
 * written=true; every entry is then checked in Redis). The fetcher's settings are in the
 * results ("settings"); origin, gateway (consuming the events), Redis, PostgreSQL and this
 * harness share the machine's cores with it.
 *
 * Per job, what the rest of the system spent on it, from the resume until the gateway had
 * consumed every event (one client.fetched per job): the gateway's, Redis's and PostgreSQL's CPU
 * (`*_cpu_ms_per_job`; Redis and PostgreSQL may be shared with other work on the machine), and
 * the PostgreSQL bytes of the consumer's records (`processed_events`: one row per client event,
 * `clients`: one row per client).
 *
 * Two passes over distinct clients: `jobs_per_s` with the origin keeping connections alive
 * (the fetcher reuses a connection to a host it fetched from within a second), and
 * `new_connection_jobs_per_s` with the origin closing every connection, so that each fetch
 * opens TCP + TLS again (resuming a TLS session of that host name when it has one), as most
 * fetches of a fleet spread over many origins do. TLS handshakes are counted at the origin.
 */
const { Queue } = require('bullmq');
const Redis = require('ioredis');
const { contracts, store } = require('../lib/dist');
const { cpuUsage } = require('../lib/cpu');
const { round } = require('../lib/load');
const { serveClients } = require('./prime');

/** One pass: `n` distinct clients, all enqueued, then timed until every one is written. */
async function pass(ctx, queue, subscriber, { n, prefix, close }) {
  const { stack, log } = ctx;
  const clients = stack.spreadHosts.flatMap((host, h) =>
    serveClients(ctx, { count: Math.ceil(n / stack.spreadHosts.length), host, prefix: `${prefix}-${h}`, close }),
  );
  clients.length = n;
  const pending = new Set(clients.map((c) => contracts.clientKey(c.clientId)));
  const outcomes = {};
  let finish;
  const allDone = new Promise((resolve) => (finish = resolve));
  const onMessage = (_channel, raw) => {
    const m = JSON.parse(raw);
    if (!pending.has(m.client_key)) return;
    outcomes[m.outcome] = (outcomes[m.outcome] ?? 0) + 1;
    if (!m.written) return;
    pending.delete(m.client_key);
    if (pending.size === 0) finish();
  };
  subscriber.on('message', onMessage);
  try {
    await queue.pause();
    log(`  enqueueing ${n} fetch jobs (queue paused)${close ? ', the origin closing every connection' : ''}`);
    for (let i = 0; i < n; i += 500) {
      await Promise.all(
        clients.slice(i, i + 500).map((c) => {
          const job = contracts.fetchJob(c.clientId, 'miss');
          return queue.add(job.name, job.data, job.opts);
        }),
      );
    }
    const tls0 = { ...stack.tls };
    const requests0 = stack.origin.requests.length;
    const usage = cpuUsage(stack.pids());
    const whole = cpuUsage(stack.pids());
    const t0 = performance.now();
    await queue.resume();
    const timeoutMs = 60_000 + n * 50;
    let timer;
    await Promise.race([
      allDone,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${pending.size} of ${n} jobs not written after ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = usage.stop();
    const tls = { handshakes: stack.tls.handshakes - tls0.handshakes, resumed: stack.tls.resumed - tls0.resumed };
    const originRequests = stack.origin.requests.length - requests0;

    let written = 0;
    for (let i = 0; i < n; i += 1000) {
      const keys = clients.slice(i, i + 1000).map((c) => stack.keys.clientEntry(c.clientId));
      written += await stack.redis.exists(...keys);
    }
    if (written !== n) throw new Error(`${written} of ${n} entries are in Redis`);
    await stack.eventsSettled();
    const consumed = { cpu: whole.stop(), seconds: (performance.now() - t0) / 1000 };
    log(`  ${n} jobs in ${round(seconds, 2)} s (${tls.handshakes} TLS handshakes, ${tls.resumed} resumed)`);
    return { seconds, cpu, tls, originRequests, outcomes, consumed };
  } finally {
    subscriber.off('message', onMessage);
  }
}

module.exports = {
  name: 'fetcher_throughput',
  async run(ctx) {
    const { stack, sizes } = ctx;
    const n = sizes.throughput.jobs;
    const run = Date.now();
    const subscriber = new Redis(stack.redisUrl);
    const queue = new Queue(contracts.FETCH_QUEUE, {
      connection: { ...store.redisOptions(stack.redisUrl, 'waiting'), lazyConnect: false },
      prefix: stack.keys.queuePrefix,
    });
    try {
      await subscriber.subscribe(stack.keys.fetchDone);
      const kept = await pass(ctx, queue, subscriber, { n, prefix: `tp${run}`, close: false });
      const fresh = await pass(ctx, queue, subscriber, { n, prefix: `tpc${run}`, close: true });
      const settings = stack.fetcherSettings();
      const perJob = (p) => round((p.cpu.fetcher * 10 * p.seconds) / n, 2); // % of a core × s → ms per job
      const consumedPerJob = (name) => round(((kept.consumed.cpu[name] ?? NaN) * 10 * kept.consumed.seconds) / n, 2);
      const rowBytes = async (table) => {
        const { rows } = await stack.pg.query(
          `SELECT pg_total_relation_size('${table}')::bigint AS bytes, (SELECT count(*) FROM ${table})::int AS n`,
        );
        return { bytes: Number(rows[0].bytes), rows: rows[0].n, per_row: round(Number(rows[0].bytes) / rows[0].n, 0) };
      };
      const processed = await rowBytes('processed_events');
      const registry = await rowBytes('clients');
      return {
        metrics: {
          jobs_per_s: round(n / kept.seconds, 0),
          concurrency: Number(settings.CIMD_FETCH_CONCURRENCY),
          jobs: n,
          seconds: round(kept.seconds, 2),
          hosts: stack.spreadHosts.length,
          origin_rate_limit: Number(settings.CIMD_ORIGIN_RATE_LIMIT),
          fetcher_cpu_percent: kept.cpu.fetcher ?? NaN,
          fetcher_cpu_ms_per_job: perJob(kept),
          // What one fetcher with a core to itself would do: the machine is shared (see cpu_percent).
          jobs_per_cpu_second: round(1000 / perJob(kept), 0),
          origin_requests: kept.originRequests,
          tls_handshakes: kept.tls.handshakes,
          tls_resumed: kept.tls.resumed,
          new_connection_jobs_per_s: round(n / fresh.seconds, 0),
          new_connection_fetcher_cpu_ms_per_job: perJob(fresh),
          new_connection_jobs_per_cpu_second: round(1000 / perJob(fresh), 0),
          new_connection_tls_handshakes: fresh.tls.handshakes,
          new_connection_tls_resumed: fresh.tls.resumed,
          gateway_cpu_ms_per_job: consumedPerJob('gateway'),
          redis_cpu_ms_per_job: consumedPerJob('redis'),
          postgres_cpu_ms_per_job: consumedPerJob('postgres'),
          postgres_bytes_per_event: processed.per_row,
          postgres_bytes_per_client: registry.per_row,
        },
        detail: {
          outcomes: kept.outcomes,
          new_connection_outcomes: fresh.outcomes,
          cpu_percent: { kept_alive: kept.cpu, new_connection: fresh.cpu },
          consumed: { seconds: round(kept.consumed.seconds, 2), cpu_percent: kept.consumed.cpu },
          postgres: { processed_events: processed, clients: registry },
        },
      };
    } finally {
      await queue.resume().catch(() => undefined);
      await queue.close().catch(() => undefined);
      subscriber.disconnect();
    }
  },
  target(m) {
    return { text: '≥ 300 jobs/s', met: m.jobs_per_s >= 300 };
  },
};
