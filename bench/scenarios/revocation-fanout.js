'use strict';
/**
 * revocation_fanout: one client with `sessions` active sessions across two tenants
 * disappears. The sessions are inserted straight into PostgreSQL (one INSERT … SELECT over
 * generate_series), next to as many sessions of 1,000 other clients, and the table is
 * analyzed as autovacuum would. Then the real path runs: the origin answers 404, an admin
 * refresh makes the fetcher look, it marks the client suspect, looks again after
 * CIMD_GONE_CONFIRM_DELAY_MS and confirms `gone`; the gateway's event consumer revokes.
 *
 * Timed from the confirmed `gone` (the time in the id of the client.gone entry on the event
 * stream, i.e. when Redis appended it) to the moment both tenants' session.revoked events have
 * been published (they are published after the commit of the one transaction that ended the
 * sessions); then every session is checked inactive in PostgreSQL. `postgres_bytes_per_session`:
 * the sessions table with its indexes, per row, once the 2 × `sessions` rows are in and analyzed.
 * The plans of the bulk
 * statements (EXPLAIN ANALYZE, on a copy of the same sessions, rolled back) are kept in the
 * results.
 */
const Redis = require('ioredis');
const { contracts } = require('../lib/dist');
const { cpuUsage } = require('../lib/cpu');
const { round } = require('../lib/load');
const { check, serveClients } = require('./prime');

const TENANTS = ['rev-a', 'rev-b'];

async function insertSessions(pg, clientId, count, tag) {
  await pg.query(
    `INSERT INTO sessions (tenant_id, session_id, client_id, subject, created_at)
     SELECT CASE WHEN g % 2 = 0 THEN $2 ELSE $3 END, $4 || g, $1, 'user-' || g, now() - (g || ' s')::interval
     FROM generate_series(1, $5::int) AS g`,
    [clientId, TENANTS[0], TENANTS[1], `${tag}-`, count],
  );
}

module.exports = {
  name: 'revocation_fanout',
  async run(ctx) {
    const { stack, sizes, log } = ctx;
    const n = sizes.revocation.sessions;
    const run = Date.now();
    for (const id of TENANTS) {
      const exists = await stack.pg.query('SELECT 1 FROM tenants WHERE id = $1', [id]);
      if (exists.rowCount === 0) await stack.admin('POST', '/v1/tenants', { id });
    }
    const [client] = serveClients(ctx, { count: 1, host: 'revoke.bench.test', prefix: `rev-${run}` });
    const first = await check(stack, client.check);
    if (first.body.decision !== 'allow') throw new Error(`the client is not allowed: ${JSON.stringify(first.body)}`);
    await stack.eventsSettled();

    log(`  inserting ${n} sessions of the client (and ${n} of 1,000 other clients)`);
    await insertSessions(stack.pg, client.clientId, n, `s${run}`);
    await stack.pg.query(
      `INSERT INTO sessions (tenant_id, session_id, client_id, subject)
       SELECT CASE WHEN g % 2 = 0 THEN $1 ELSE $2 END, $3 || g, $4 || (g % 1000) || '.json', 'user-' || g
       FROM generate_series(1, $5::int) AS g`,
      [TENANTS[0], TENANTS[1], `o${run}-`, `https://other.example/c${run}-`, n],
    );
    await stack.pg.query('ANALYZE sessions');
    const size = (
      await stack.pg.query(
        "SELECT pg_total_relation_size('sessions')::bigint AS bytes, pg_relation_size('sessions')::bigint AS heap, (SELECT count(*) FROM sessions)::int AS n",
      )
    ).rows[0];

    const subscriber = new Redis(stack.redisUrl);
    const reader = new Redis(stack.redisUrl);
    try {
      const revoked = new Map();
      let allRevoked;
      const published = new Promise((resolve) => (allRevoked = resolve));
      subscriber.on('message', (_channel, raw) => {
        const e = JSON.parse(raw);
        if (e.type !== 'session.revoked' || e.client_id !== client.clientId) return;
        revoked.set(e.tenant, { at: Date.now(), sessions: e.data.sessions });
        if (TENANTS.every((t) => revoked.has(t))) allRevoked();
      });
      await subscriber.subscribe(stack.keys.tenantEvents);
      const [last] = await stack.redis.xrevrange(stack.keys.events, '+', '-', 'COUNT', 1);
      let cursor = last ? last[0] : '0-0';

      log('  the document now answers 404; an admin refresh makes the fetcher look');
      stack.origin.route(client.path, (_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('gone'));
      const usage = cpuUsage(stack.pids());
      const asked = Date.now();
      await stack.admin('POST', '/v1/clients/refresh', { client_id: client.clientId });

      let goneAt;
      let goneEvent;
      const deadline = Date.now() + 30_000;
      while (!goneAt) {
        if (Date.now() > deadline) throw new Error('no client.gone event within 30 s');
        const reply = await reader.xread('COUNT', 100, 'BLOCK', 1000, 'STREAMS', stack.keys.events, cursor);
        for (const [id, fields] of reply?.[0]?.[1] ?? []) {
          cursor = id;
          const event = contracts.parseEventFields(fields);
          if (event?.type === 'client.gone' && event.client_id === client.clientId) {
            goneAt = Number(id.split('-')[0]);
            goneEvent = event;
          }
        }
      }
      let timer;
      await Promise.race([
        published,
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error('the session.revoked events did not arrive within 120 s')),
            120_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      const doneAt = Math.max(...[...revoked.values()].map((r) => r.at));
      const cpu = usage.stop();

      const { rows } = await stack.pg.query(
        'SELECT count(*)::int AS active FROM sessions WHERE client_id = $1 AND revoked_at IS NULL',
        [client.clientId],
      );
      if (rows[0].active !== 0) throw new Error(`${rows[0].active} sessions still active`);
      const counted = [...revoked.values()].reduce((a, r) => a + r.sessions, 0);
      if (counted !== n) throw new Error(`session.revoked events count ${counted} sessions, expected ${n}`);
      const logged = await stack.pg.query(
        "SELECT count(*)::int AS n FROM tenant_events WHERE type = 'session.revoked' AND client_id = $1",
        [client.clientId],
      );
      if (logged.rows[0].n !== TENANTS.length) throw new Error('the session.revoked events are not in tenant_events');

      const explain = await explainRevocation(stack, n, run, goneEvent.id);
      return {
        metrics: {
          sessions: n,
          seconds: round((doneAt - goneAt) / 1000, 3),
          detect_seconds: round((goneAt - asked) / 1000, 3),
          tenants: TENANTS.length,
          update_ms: explain.update_ms,
          postgres_bytes_per_session: round(Number(size.bytes) / size.n, 0),
          postgres_heap_bytes_per_session: round(Number(size.heap) / size.n, 0),
        },
        detail: { cpu_percent: cpu, explain: explain.plans, sessions_table: size },
      };
    } finally {
      subscriber.disconnect();
      reader.disconnect();
    }
  },
  target(m) {
    return { text: '≤ 5 s from the confirmed gone', met: m.seconds <= 5 };
  },
};

/**
 * The consumer's two statements on a fresh copy of the same sessions (another client_id),
 * inside a transaction that is rolled back: their plans and times, as evidence.
 */
async function explainRevocation(stack, n, run, causeId) {
  const clientId = `https://explain.example/c${run}.json`;
  await insertSessions(stack.pg, clientId, n, `e${run}`);
  await stack.pg.query('ANALYZE sessions');
  const plans = {};
  let updateMs = NaN;
  try {
    await stack.pg.query('BEGIN');
    const select = await stack.pg.query(
      'EXPLAIN (ANALYZE, BUFFERS) SELECT DISTINCT tenant_id FROM sessions WHERE client_id = $1 AND revoked_at IS NULL',
      [clientId],
    );
    plans.active_tenants = select.rows.map((r) => r['QUERY PLAN']).join('\n');
    const update = await stack.pg.query(
      `EXPLAIN (ANALYZE, BUFFERS) WITH revoked AS (
         UPDATE sessions SET revoked_at = now(), revoke_reason = 'client.gone'
         WHERE client_id = $1 AND revoked_at IS NULL AND tenant_id = ANY($2)
         RETURNING tenant_id)
       SELECT tenant_id, count(*)::int AS sessions FROM revoked GROUP BY tenant_id`,
      [clientId, TENANTS],
    );
    plans.bulk_update = update.rows.map((r) => r['QUERY PLAN']).join('\n');
    updateMs = Number(/Execution Time: ([\d.]+) ms/.exec(plans.bulk_update)?.[1]);
  } finally {
    await stack.pg.query('ROLLBACK');
  }
  await stack.pg.query('DELETE FROM sessions WHERE client_id = $1', [clientId]);
  plans.cause_event_id = causeId;
  return { plans, update_ms: round(updateMs, 1) };
}
