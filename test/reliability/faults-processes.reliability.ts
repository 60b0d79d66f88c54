import { ClientEvent } from '@cimd/core';
import { parseEventFields, WEBHOOK_QUEUE } from '@cimd/contracts';
import type { ServerResponse } from 'node:http';
import { Client } from 'pg';
import { faultTest, timeUntil, verifyEventsProcessed } from './support/fault';
import { SteadyLoad, verifyAcknowledged, verifyFetched } from './support/load';
import { serveDocument } from './support/origin';
import { record } from './support/results';
import { AppProcess, sleep } from './support/servers';
import { ProcessStack } from './support/stack';

/**
 * Faults: a process of the system SIGKILLed while it works.
 *
 * - A fetcher killed with jobs in flight (requests the origin holds open): BullMQ's stalled-job
 *   check in the other fetcher moves them back to waiting once their lock expires, and they
 *   complete; the two fetchers share the load with each client written (and announced) once.
 * - The gateway killed while it consumes a `client.gone` event: once inside the revocation
 *   transaction (its UPDATE held by a row lock the test takes), once after the commit but before
 *   the acknowledgement and the webhook enqueue (Redis writes paused by the test). After the
 *   restart every session of the client is revoked exactly once and each tenant's webhook is
 *   delivered at least once, with the same event id.
 *
 * Short locks make the recovery take seconds instead of minutes: the fetch job lock
 * (CIMD_FETCH_LOCK_DURATION_MS) and stalled-job check (CIMD_FETCH_STALLED_INTERVAL_MS), and the
 * idle time after which a gateway claims another consumer's pending events
 * (CIMD_EVENTS_CLAIM_IDLE_MS).
 */
const FILE = __filename;
const LOCK_MS = 2000;
const STALLED_MS = 1000;
const CLAIM_IDLE_MS = 2000;
const SECRET = 'reliability-webhook-secret-0123456789';
let stack: ProcessStack;

/** Requests to /held/ stay unanswered while `holding`; the test answers (or the fetcher dies). */
let holding = true;
const held: { path: string; res: ServerResponse; at: number; closed: boolean; answered: boolean }[] = [];

/** Webhooks received: tenant, event id, delivery id, the tenant event. */
const hooks: { tenant: string; eventId: string; deliveryId: string; at: number; body: { client_id?: string } }[] = [];

beforeAll(async () => {
  stack = await ProcessStack.start('processes', {
    hosts: ['client.test', 'slow.test', 'hooks.test'],
    gatewayEnv: { CIMD_EVENTS_CLAIM_IDLE_MS: String(CLAIM_IDLE_MS) },
    fetcherEnv: {
      CIMD_FETCH_LOCK_DURATION_MS: String(LOCK_MS),
      CIMD_FETCH_STALLED_INTERVAL_MS: String(STALLED_MS),
      // Held requests must outlive the kill: the fetch deadline is not the fault here.
      CIMD_FETCH_TIMEOUT_MS: '15000',
      CIMD_GONE_CONFIRM_DELAY_MS: '300',
    },
  });
  stack.origin.prefix('/load/', serveDocument());
  stack.origin.prefix('/warm/', serveDocument());
  stack.origin.prefix('/held/', (req, res) => {
    if (!holding) return serveDocument()(req, res, '');
    const h = { path: (req.url ?? '').split('?')[0] ?? '', res, at: Date.now(), closed: false, answered: false };
    res.once('close', () => (h.closed = !h.answered));
    held.push(h);
  });
  stack.origin.prefix('/hook/', (req, res, body) => {
    let parsed: { client_id?: string } = {};
    try {
      parsed = JSON.parse(body) as { client_id?: string };
    } catch {
      // recorded as is
    }
    hooks.push({
      tenant: (req.url ?? '').split('/')[2] ?? '',
      eventId: String(req.headers['x-cimd-event-id']),
      deliveryId: String(req.headers['x-cimd-delivery-id']),
      at: Date.now(),
      body: parsed,
    });
    res.writeHead(204).end();
  });
  for (const tenant of ['acme', 'beta']) {
    await stack.expect(201, 'POST', '/v1/tenants', {
      id: tenant,
      policy: { webhook: { url: stack.clientId(`/hook/${tenant}`, 'hooks.test'), secret: SECRET } },
    });
  }
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

async function streamEvents(): Promise<ClientEvent[]> {
  const entries = await stack.inspect.xrange(stack.keys.events, '-', '+');
  return entries.map(([, fields]) => parseEventFields(fields)).filter((e): e is ClientEvent => e !== undefined);
}

/** Wait for a (re)started fetcher's readiness on its health port. */
async function fetcherReady(fetcher: AppProcess): Promise<void> {
  const port = (fetcher as AppProcess & { port?: number }).port;
  const ms = await timeUntil(
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) })).ok;
      } catch {
        return false;
      }
    },
    Date.now(),
    30_000,
  );
  if (!Number.isFinite(ms)) throw new Error(`${fetcher.name} not ready:\n${fetcher.tail()}`);
}

/** Sum of one counter over its label sets in a Prometheus text, optionally filtered by a label. */
function counter(text: string, name: string, label?: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .filter((l) => label === undefined || l.includes(label))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

faultTest(
  FILE,
  'Fetcher SIGKILLed mid-job, a second fetcher sharing the work',
  async (note) => {
    const warm = [1, 2, 3, 4].map((i) => stack.clientId(`/warm/c${i}.json`));
    for (const c of warm) expect((await stack.check('acme', c)).body.decision).toBe('allow');
    const load = new SteadyLoad(stack, {
      tenant: 'acme',
      checkClients: warm,
      sessionClient: warm[0] as string,
      tag: 'fetcher',
    }).start();
    await sleep(1000);

    // Jobs whose origin holds the request open: with one fetcher running they are all its own.
    const first = stack.fetchers[0] as AppProcess;
    const heldIds = Array.from({ length: 6 }, (_, i) => stack.clientId(`/held/h${i}.json`, 'slow.test'));
    for (const id of heldIds) await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: id });
    const heldMs = await timeUntil(
      () => Promise.resolve(held.length >= Math.min(4, heldIds.length)),
      Date.now(),
      10_000,
    );
    expect(heldMs).toBeLessThan(10_000);
    const heldByFirst = held.length;

    // A second fetcher joins and takes its share of the load.
    load.phase = 'two fetchers';
    const second = await stack.startFetcher();
    await sleep(1500);

    load.phase = 'killed';
    const killedAt = Date.now();
    await first.kill('SIGKILL');
    await sleep(300); // the origin sees the killed process's connections close
    const killed = held.filter((h) => h.closed).map((h) => h.path);
    holding = false;
    for (const h of held.filter((x) => !x.closed)) {
      h.answered = true;
      serveDocument()({ headers: { host: `slow.test:${stack.origin.port}` }, url: h.path } as never, h.res, '');
    }
    // Every held job completes: the killed process's ones through the stalled-job check.
    const recoveredMs = await timeUntil(
      async () => (await verifyFetched(stack, heldIds, 0)).length === 0,
      killedAt,
      30_000,
      100,
    );
    const secondRss = second.rss();

    // The killed fetcher comes back (as a supervisor would restart it) and both share the work.
    load.phase = 'restarted';
    first.start();
    await fetcherReady(first);
    const restartedAt = Date.now();
    load.phase = 'after';
    await sleep(3000);
    await load.stop();

    const [firstMetrics, secondMetrics] = await Promise.all([
      stack.fetcherMetrics(first),
      stack.fetcherMetrics(second),
    ]);
    const okFirst = counter(firstMetrics, 'cimd_fetch_jobs_total', 'outcome="ok"');
    const okSecond = counter(secondMetrics, 'cimd_fetch_jobs_total', 'outcome="ok"');

    // Side effects once: per client, one client.fetched event and nothing else; origin hits
    // are one per fetch, plus one for each request the killed fetcher had in flight.
    const acknowledged = await verifyAcknowledged(stack, load, 'acme');
    const events = await streamEvents();
    const fetchedIds = [...heldIds, ...load.refreshes.map((r) => r.clientId)];
    const perClient = new Map<string, string[]>();
    for (const e of events) perClient.set(e.client_id, [...(perClient.get(e.client_id) ?? []), e.type]);
    const doubled = fetchedIds.filter((id) => (perClient.get(id) ?? []).length !== 1);
    const pathOf = (id: string) => new URL(id).pathname;
    const heldHits = heldIds.map((id) => stack.origin.hits(pathOf(id)));
    const wrongHeldHits = heldIds.filter((id, i) => heldHits[i] !== 1 + (killed.includes(pathOf(id)) ? 1 : 0));
    const loadHits = load.refreshes.map((r) => stack.origin.hits(pathOf(r.clientId)));
    const processed = await verifyEventsProcessed(stack);

    note(
      `${heldByFirst} requests in flight in the killed fetcher (${killed.length} of them open at the SIGKILL), ${heldIds.length} held jobs in all`,
    );
    note(
      `killed jobs picked up again and completed ${recoveredMs} ms after the SIGKILL (lock ${LOCK_MS} ms, stalled check every ${STALLED_MS} ms)`,
    );
    note(
      `jobs ok: restarted fetcher ${okFirst} in ${Date.now() - restartedAt} ms, second fetcher ${okSecond}; second fetcher RSS ${Math.round((secondRss ?? 0) / 1048576)} MB`,
    );
    note(
      `${fetchedIds.length} clients fetched: ${doubled.length} with other than exactly one event; origin hits per held client ${JSON.stringify(heldHits)}, ` +
        `load clients fetched twice: ${loadHits.filter((n) => n === 2).length}/${loadHits.length}`,
    );
    note(
      `after: ${acknowledged.sessions} sessions (${acknowledged.lostSessions.length} lost), ${acknowledged.refreshes} refreshes (${acknowledged.lostRefreshes.length} lost), ${processed.events} events (${processed.lost.length} unprocessed)`,
    );
    note(`answers: ${JSON.stringify(load.table())}`);

    const lostHeld = await verifyFetched(stack, heldIds, 0);
    const lost =
      acknowledged.lostSessions.length + acknowledged.lostRefreshes.length + lostHeld.length + processed.lost.length;
    const checked = acknowledged.sessions + acknowledged.refreshes + heldIds.length + processed.events;
    record(
      'lost',
      {
        tried: checked,
        passed: checked - lost,
        lost,
        fivexx: load.escaped.length,
        details: [
          ...acknowledged.lostSessions.map((s) => `session ${s}`),
          ...acknowledged.lostRefreshes.map((r) => `refresh ${r}`),
          ...lostHeld.map((r) => `held job ${r}`),
          ...processed.lost.map((e) => `event ${e}`),
          ...load.escaped,
        ],
      },
      FILE,
    );

    expect(load.escaped).toEqual([]);
    expect(killed.length).toBeGreaterThan(0);
    expect(recoveredMs).toBeLessThan(LOCK_MS + 4 * STALLED_MS + 5000);
    expect(lostHeld).toEqual([]);
    expect(acknowledged.lostSessions).toEqual([]);
    expect(acknowledged.lostRefreshes).toEqual([]);
    expect(processed.lost).toEqual([]);
    expect(doubled.map((id) => `${id}: ${(perClient.get(id) ?? []).join(',')}`)).toEqual([]);
    expect(wrongHeldHits).toEqual([]);
    expect(loadHits.every((n) => n >= 1 && n <= 2)).toBe(true);
    expect(okSecond).toBeGreaterThan(0);
    expect(okFirst).toBeGreaterThan(0);
  },
  120_000,
);

/**
 * A client with many sessions in both tenants whose document is about to vanish. Sessions are
 * registered through the API, 25 at a time.
 */
async function doomedClient(
  name: string,
  counts: Record<string, number>,
): Promise<{ id: string; vanish: () => void; sessions: number }> {
  let gone = false;
  const path = `/doomed/${name}.json`;
  stack.origin.route(path, (req, res) => {
    if (gone) res.writeHead(404, { 'content-type': 'text/plain' }).end('gone');
    else serveDocument()(req, res, '');
  });
  const id = stack.clientId(path);
  for (const tenant of Object.keys(counts)) expect((await stack.check(tenant, id)).body.decision).toBe('allow');
  let sessions = 0;
  for (const [tenant, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i += 25) {
      await Promise.all(
        Array.from({ length: Math.min(25, n - i) }, (_, j) =>
          stack.expect(201, 'POST', `/v1/tenants/${tenant}/sessions`, {
            session_id: `${name}-${tenant}-${i + j}`,
            client_id: id,
            subject: 'doomed',
          }),
        ),
      );
      sessions += Math.min(25, n - i);
    }
  }
  return { id, vanish: () => (gone = true), sessions };
}

/** The gateway's revocation UPDATE for `clientId` waiting on a lock (the test's). */
async function revocationBlocked(): Promise<boolean> {
  const rows = await stack.query(
    `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'
     AND query LIKE '%UPDATE sessions SET revoked_at%'`,
  );
  return rows.length > 0;
}

interface RevocationCheck {
  active: number;
  revocations: { tenant_id: string; sessions: number }[];
  revokedEvents: { tenant_id: string; id: string }[];
  processedTimes: number;
  goneEvents: number;
}

async function revocationState(clientId: string, goneId: string): Promise<RevocationCheck> {
  const [active] = await stack.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM sessions WHERE client_id = $1 AND revoked_at IS NULL',
    [clientId],
  );
  const revocations = await stack.query<{ tenant_id: string; sessions: number }>(
    'SELECT tenant_id, sessions FROM revocations WHERE client_id = $1 ORDER BY tenant_id',
    [clientId],
  );
  const revokedEvents = await stack.query<{ tenant_id: string; id: string }>(
    "SELECT tenant_id, id::text AS id FROM tenant_events WHERE client_id = $1 AND type = 'session.revoked' ORDER BY tenant_id",
    [clientId],
  );
  const [processed] = await stack.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM processed_events WHERE event_id = $1',
    [goneId],
  );
  const goneEvents = (await streamEvents()).filter((e) => e.client_id === clientId && e.type === 'client.gone').length;
  return { active: active?.n ?? -1, revocations, revokedEvents, processedTimes: processed?.n ?? 0, goneEvents };
}

/** Pending entries of the gateway's consumer group on the event stream. */
async function pendingEvents(): Promise<{ count: number; ids: string[] }> {
  const summary = (await stack.inspect.xpending(stack.keys.events, 'gateway')) as [number, ...unknown[]];
  const detail = (await stack.inspect.xpending(stack.keys.events, 'gateway', '-', '+', 100)) as [
    string,
    ...unknown[],
  ][];
  return { count: Number(summary[0] ?? 0), ids: detail.map((d) => d[0]) };
}

/**
 * One gateway kill while it consumes a client.gone event. `when`:
 * - `in-transaction`: the revocation UPDATE is waiting on a row lock the test holds; SIGKILL,
 *   then the lock is released (the dead gateway's transaction rolls back);
 * - `after-commit`: Redis writes are paused (CLIENT PAUSE WRITE), the lock released, and the
 *   gateway SIGKILLed as soon as its commit is visible: it committed the revocation and the
 *   pending webhook deliveries but could neither enqueue them nor acknowledge the event.
 */
async function gatewayKilledConsuming(
  when: 'in-transaction' | 'after-commit',
  name: string,
  note: (line: string) => void,
): Promise<void> {
  const counts = { acme: 400, beta: 300 };
  const registerStarted = Date.now();
  const doomed = await doomedClient(name, counts);
  note(
    `${doomed.sessions} sessions registered in ${Date.now() - registerStarted} ms (acme ${counts.acme}, beta ${counts.beta})`,
  );
  const warm = stack.clientId('/warm/c1.json');
  expect((await stack.check('acme', warm)).body.decision).toBe('allow');
  const load = new SteadyLoad(stack, {
    tenant: 'acme',
    checkClients: [warm],
    sessionClient: warm,
    tag: `gw-${name}`,
  }).start();
  await sleep(500);

  // Hold one of the client's sessions: the gateway's revocation UPDATE will wait for it.
  const locker = new Client({ connectionString: stack.databaseUrl });
  await locker.connect();
  let lockHeld = true;
  try {
    await locker.query('BEGIN');
    await locker.query('SELECT 1 FROM sessions WHERE tenant_id = $1 AND session_id = $2 FOR UPDATE', [
      'beta',
      `${name}-beta-0`,
    ]);

    doomed.vanish();
    const vanishedAt = Date.now();
    await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: doomed.id });
    const blockedMs = await timeUntil(revocationBlocked, vanishedAt, 20_000, 20);
    if (!Number.isFinite(blockedMs)) throw new Error(`the revocation never started:\n${stack.logs()}`);
    const gone = (await streamEvents()).find((e) => e.client_id === doomed.id && e.type === 'client.gone');
    if (!gone) throw new Error('no client.gone event on the stream');
    const pendingAtKill = await pendingEvents();
    note(
      `client.gone read by the gateway ${blockedMs} ms after the document vanished; its revocation UPDATE waits on the test's row lock`,
    );

    let committedMs = 0;
    if (when === 'after-commit') {
      await stack.inspect.call('CLIENT', 'PAUSE', '15000', 'WRITE');
      await locker.query('ROLLBACK');
      lockHeld = false;
      const released = Date.now();
      committedMs = await timeUntil(
        async () => (await stack.query('SELECT 1 FROM processed_events WHERE event_id = $1', [gone.id])).length > 0,
        released,
        10_000,
        5,
      );
      if (!Number.isFinite(committedMs)) {
        await stack.inspect.call('CLIENT', 'UNPAUSE');
        throw new Error('the revocation never committed');
      }
    }
    load.phase = 'gateway killed';
    await stack.gateway.kill('SIGKILL');
    const atKill = await revocationState(doomed.id, gone.id);
    const deliveriesAtKill = await stack.query<{ id: string; status: string }>(
      `SELECT d.id, d.status FROM webhook_deliveries d JOIN tenant_events e ON e.id = d.tenant_event_id
       WHERE e.client_id = $1`,
      [doomed.id],
    );
    if (when === 'after-commit') await stack.inspect.call('CLIENT', 'UNPAUSE');
    if (lockHeld) {
      await locker.query('ROLLBACK');
      lockHeld = false;
    }
    const onQueue = await Promise.all(
      deliveriesAtKill.map((d) => stack.inspect.exists(`${stack.keys.queuePrefix}:${WEBHOOK_QUEUE}:${d.id}`)),
    );
    note(
      `SIGKILL ${when === 'after-commit' ? `${committedMs} ms after the commit became visible` : 'inside the transaction'}: ` +
        `${pendingAtKill.count} stream entries pending for the gateway group${pendingAtKill.ids.length ? ` (${pendingAtKill.ids.join(',')})` : ''}, ` +
        `${atKill.active} sessions active in PostgreSQL, ${atKill.revocations.length} revocation rows, ` +
        `${deliveriesAtKill.length} webhook deliveries recorded (${onQueue.filter(Boolean).length} on the queue), ` +
        `${hooks.filter((h) => h.body.client_id === doomed.id).length} webhooks received`,
    );

    // Restart: the new gateway claims the dead consumer's entry once it has been idle CLAIM_IDLE_MS.
    load.phase = 'restarting';
    await stack.startGateway();
    const upAt = Date.now();
    load.phase = 'after';
    const revokedMs = await timeUntil(
      async () => (await revocationState(doomed.id, gone.id)).active === 0,
      upAt,
      30_000,
      100,
    );
    const deliveredMs = await timeUntil(
      () =>
        Promise.resolve(
          ['acme', 'beta'].every((t) => hooks.some((h) => h.tenant === t && h.body.client_id === doomed.id)),
        ),
      upAt,
      30_000,
      100,
    );
    const settledMs = await timeUntil(
      async () =>
        (
          await stack.query(
            `SELECT 1 FROM webhook_deliveries d JOIN tenant_events e ON e.id = d.tenant_event_id
             WHERE e.client_id = $1 AND d.status = 'delivered'`,
            [doomed.id],
          )
        ).length === 2,
      upAt,
      15_000,
      100,
    );
    await sleep(1000);
    await load.stop();

    const after = await revocationState(doomed.id, gone.id);
    const received = hooks.filter((h) => h.body.client_id === doomed.id);
    const eventIdsPerTenant = Object.fromEntries(
      ['acme', 'beta'].map((t) => [t, [...new Set(received.filter((h) => h.tenant === t).map((h) => h.eventId))]]),
    );
    const expectedEventIds = Object.fromEntries(after.revokedEvents.map((e) => [e.tenant_id, [e.id]]));
    // Session checks (Redis marks, then PostgreSQL) say revoked for a sample of them.
    const sample = ['acme', 'beta'].flatMap((t) => [0, 1, 99, 199].map((i) => [t, `${name}-${t}-${i}`] as const));
    const stillActive: string[] = [];
    for (const [t, s] of sample) {
      const r = await stack.api('GET', `/v1/tenants/${t}/sessions/${s}`);
      if (r.status !== 200 || r.body?.active !== false)
        stillActive.push(`${t}/${s}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const acknowledged = await verifyAcknowledged(stack, load, 'acme');
    const processed = await verifyEventsProcessed(stack);
    note(
      `restarted; every session revoked ${revokedMs} ms after the gateway was ready, webhooks to both tenants ${deliveredMs} ms, delivery log settled ${settledMs} ms`,
    );
    note(
      `revocations ${JSON.stringify(after.revocations)}; session.revoked events ${after.revokedEvents.length}; processed_events rows for the event ${after.processedTimes}; client.gone on the stream ${after.goneEvents}`,
    );
    note(
      `webhooks received ${received.length} (${JSON.stringify(Object.fromEntries(['acme', 'beta'].map((t) => [t, received.filter((h) => h.tenant === t).length])))}), event ids ${JSON.stringify(eventIdsPerTenant)}`,
    );
    note(
      `after: ${acknowledged.sessions} load sessions (${acknowledged.lostSessions.length} lost), ${acknowledged.refreshes} refreshes (${acknowledged.lostRefreshes.length} lost), ${processed.events} events (${processed.lost.length} unprocessed)`,
    );
    note(`answers: ${JSON.stringify(load.table())}`);

    const revokedLost = after.active;
    const lost =
      revokedLost + acknowledged.lostSessions.length + acknowledged.lostRefreshes.length + processed.lost.length;
    const checked = doomed.sessions + acknowledged.sessions + acknowledged.refreshes + processed.events;
    record(
      'lost',
      {
        tried: checked,
        passed: checked - lost,
        lost,
        fivexx: load.escaped.length,
        details: [
          ...(revokedLost ? [`${revokedLost} sessions of ${doomed.id} not revoked`] : []),
          ...acknowledged.lostSessions.map((s) => `session ${s}`),
          ...acknowledged.lostRefreshes.map((r) => `refresh ${r}`),
          ...processed.lost.map((e) => `event ${e}`),
          ...load.escaped,
        ],
      },
      FILE,
    );

    expect(load.escaped).toEqual([]);
    expect(pendingAtKill.count).toBeGreaterThan(0);
    if (when === 'in-transaction') {
      // Nothing of the transaction survived the kill.
      expect(atKill.processedTimes).toBe(0);
      expect(atKill.revocations).toEqual([]);
      expect(deliveriesAtKill).toEqual([]);
    } else {
      // Committed, but neither enqueued nor acknowledged.
      expect(atKill.active).toBe(0);
      expect(atKill.processedTimes).toBe(1);
      expect(deliveriesAtKill.map((d) => d.status)).toEqual(['pending', 'pending']);
      expect(onQueue.filter(Boolean)).toEqual([]);
    }
    expect(revokedMs).toBeLessThan(30_000);
    expect(after.active).toBe(0);
    expect(after.revocations).toEqual([
      { tenant_id: 'acme', sessions: counts.acme },
      { tenant_id: 'beta', sessions: counts.beta },
    ]);
    expect(after.revokedEvents.map((e) => e.tenant_id)).toEqual(['acme', 'beta']);
    expect(after.processedTimes).toBe(1);
    expect(after.goneEvents).toBe(1);
    expect(stillActive).toEqual([]);
    expect(deliveredMs).toBeLessThan(30_000);
    expect(eventIdsPerTenant).toEqual(expectedEventIds);
    expect(settledMs).toBeLessThan(15_000);
    expect(acknowledged.lostSessions).toEqual([]);
    expect(acknowledged.lostRefreshes).toEqual([]);
    expect(processed.lost).toEqual([]);
  } finally {
    if (lockHeld) await locker.query('ROLLBACK').catch(() => undefined);
    await stack.inspect.call('CLIENT', 'UNPAUSE').catch(() => undefined);
    await locker.end().catch(() => undefined);
  }
}

faultTest(
  FILE,
  'Gateway SIGKILLed inside the revocation transaction of client.gone',
  (note) => gatewayKilledConsuming('in-transaction', 'mid', note),
  120_000,
);

faultTest(
  FILE,
  'Gateway SIGKILLed after committing client.gone, before the ack and the webhook enqueue',
  (note) => gatewayKilledConsuming('after-commit', 'late', note),
  120_000,
);
