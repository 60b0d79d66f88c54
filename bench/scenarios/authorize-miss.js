'use strict';
/**
 * authorize_miss: the end-to-end latency of a check for a client nobody has asked about yet
 * (gateway → queue → fetcher → origin → validation → write-back → notice → answer), against
 * the inline comparator: the baseline server fetching and validating on the request path, as
 * peers without a fetcher do. One request at a time, a new client_id for every sample, the
 * two kinds of sample interleaved so that both see the same machine; both reach the origin
 * at the same host, so both reuse their TLS connection to it alike.
 */
const { round, summary } = require('../lib/load');
const { cpuUsage } = require('../lib/cpu');
const { check, post, serveClients } = require('./prime');

module.exports = {
  name: 'authorize_miss',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const n = sizes.miss.samples;
    const warm = 5;
    const viaGateway = serveClients(ctx, { count: n + warm, host: 'miss.bench.test', prefix: 'miss-gw' });
    const viaInline = serveClients(ctx, { count: n + warm, host: 'miss.bench.test', prefix: 'miss-inline' });
    log(`  ${n} samples each, interleaved`);
    const gateway = [];
    const inline = [];
    const statuses = {};
    const usage = cpuUsage(stack.pids());
    for (let i = 0; i < n + warm; i++) {
      const g = await check(stack, viaGateway[i].check);
      const key = `${g.status} ${g.body.decision} ${g.body.cache?.status ?? g.body.reason}`;
      if (key !== '200 allow fetched') throw new Error(`gateway miss sample ${i}: ${key}`);
      const l = await fetchInline(stack, viaInline[i].check);
      if (l.status !== 200 || l.body.decision !== 'allow')
        throw new Error(`inline sample ${i}: ${l.status} ${JSON.stringify(l.body)}`);
      if (i < warm) continue; // the first of each: connections, JIT
      gateway.push(g.ms);
      inline.push(l.ms);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
    const cpu = usage.stop();
    await stack.eventsSettled();
    const g = summary(gateway);
    const l = summary(inline);
    return {
      metrics: {
        p50_ms: g.p50_ms,
        p99_ms: g.p99_ms,
        inline_p50_ms: l.p50_ms,
        inline_p99_ms: l.p99_ms,
        ratio: round(g.p50_ms / l.p50_ms, 2),
        samples: n,
      },
      detail: { gateway: g, inline: l, cpu_percent: cpu },
    };
  },
  target(m) {
    return { text: 'p50 ≤ inline p50 + 5 ms', met: m.p50_ms <= m.inline_p50_ms + 5 };
  },
};

function fetchInline(stack, body) {
  return post(`${stack.baselineUrl}/inline/check`, stack.apiKey, body);
}
