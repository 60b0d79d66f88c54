'use strict';
/**
 * herd: `concurrent` checks at once, each on its own connection, for one client nobody has
 * asked about (a new one every run). The origin takes `originDelayMs` to answer, as a distant
 * host would, so the checks arrive while the one fetch is under way. All must be answered
 * (allow, not pending) and the origin must see one request.
 */
const { Agent } = require('undici');
const { summary } = require('../lib/load');
const { check, serveClients } = require('./prime');

module.exports = {
  name: 'herd',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const n = sizes.herd.concurrent;
    const originDelayMs = 250;
    const [client] = serveClients(ctx, {
      count: 1,
      host: 'herd.bench.test',
      prefix: `herd-${Date.now()}`,
      delayMs: originDelayMs,
    });
    const agent = new Agent({ connections: n, pipelining: 1 });
    try {
      log(`  ${n} concurrent checks of one uncached client (origin answers after ${originDelayMs} ms)`);
      const t0 = performance.now();
      const results = await Promise.all(
        Array.from({ length: n }, () =>
          check(stack, client.check, agent).catch((e) => ({ status: 0, body: { error: e.message }, ms: NaN })),
        ),
      );
      const wallMs = performance.now() - t0;
      const outcomes = {};
      for (const r of results) {
        const key =
          `${r.status} ${r.body.decision ?? r.body.error} ${r.body.cache?.status ?? r.body.reason ?? ''}`.trim();
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
      await stack.eventsSettled();
      const answered = results.filter((r) => r.status === 200 && r.body.decision === 'allow').length;
      const waited = results.filter((r) => r.body.cache?.status === 'fetched').length;
      const latency = summary(results.map((r) => r.ms));
      return {
        metrics: {
          concurrent: n,
          answered,
          origin_requests: stack.origin.hits(client.path),
          waited_on_fetch: waited,
          p50_ms: latency.p50_ms,
          max_ms: latency.max_ms,
          wall_ms: Math.round(wallMs),
        },
        detail: { outcomes, origin_delay_ms: originDelayMs },
      };
    } finally {
      await agent.close();
    }
  },
  target(m) {
    return { text: 'all answered, one origin request', met: m.answered === m.concurrent && m.origin_requests === 1 };
  },
};
