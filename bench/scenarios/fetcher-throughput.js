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
 */
const { Queue } = require('bullmq');
const Redis = require('ioredis');
const { contracts, runtime } = require('../lib/dist');
const { cpuUsage } = require('../lib/cpu');
const { round } = require('../lib/load');
const { serveClients } = require('./prime');

module.exports = {
  name: 'fetcher_throughput',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const n = sizes.throughput.jobs;
    const run = Date.now();
    const clients = stack.spreadHosts.flatMap((host, h) =>
      serveClients(ctx, { count: Math.ceil(n / stack.spreadHosts.length), host, prefix: `tp${run}-${h}` }),
    );
    clients.length = n;
    const pending = new Set(clients.map((c) => contracts.clientKey(c.clientId)));
    const outcomes = {};

    const subscriber = new Redis(stack.redisUrl);
    const queue = new Queue(contracts.FETCH_QUEUE, {
      connection: runtime.bullmqConnection(stack.redisUrl, 'worker'),
      prefix: stack.keys.queuePrefix,
    });
    try {
      let finish;
      const allDone = new Promise((resolve) => (finish = resolve));
      subscriber.on('message', (_channel, raw) => {
        const m = JSON.parse(raw);
        if (!pending.has(m.client_key)) return;
        outcomes[m.outcome] = (outcomes[m.outcome] ?? 0) + 1;
        if (!m.written) return;
        pending.delete(m.client_key);
        if (pending.size === 0) finish();
      });
      await subscriber.subscribe(stack.keys.fetchDone);

      await queue.pause();
      log(`  enqueueing ${n} fetch jobs (queue paused)`);
      for (let i = 0; i < n; i += 500) {
        await Promise.all(clients.slice(i, i + 500).map((c) => contracts.enqueueFetch(queue, c.clientId, 'miss')));
      }
      const usage = cpuUsage(stack.pids());
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

      let written = 0;
      for (let i = 0; i < n; i += 1000) {
        const keys = clients.slice(i, i + 1000).map((c) => stack.keys.clientEntry(c.clientId));
        written += await stack.redis.exists(...keys);
      }
      if (written !== n) throw new Error(`${written} of ${n} entries are in Redis`);
      await stack.eventsSettled();
      const settings = stack.fetcherSettings();
      log(`  ${n} jobs in ${round(seconds, 2)} s`);
      return {
        metrics: {
          jobs_per_s: round(n / seconds, 0),
          concurrency: Number(settings.CIMD_FETCH_CONCURRENCY),
          jobs: n,
          seconds: round(seconds, 2),
          hosts: stack.spreadHosts.length,
          origin_rate_limit: Number(settings.CIMD_ORIGIN_RATE_LIMIT),
          fetcher_cpu_percent: cpu.fetcher ?? NaN,
        },
        detail: { outcomes, cpu_percent: cpu },
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
