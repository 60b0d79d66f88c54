import { faultTest, timeUntil, verifyEventsProcessed } from './support/fault';
import { SteadyLoad, verifyAcknowledged, verifyFetched } from './support/load';
import { serveDocument } from './support/origin';
import { record } from './support/results';
import { sleep } from './support/servers';
import { ProcessStack } from './support/stack';
import { describeSweep, sweepRoutes } from './support/sweep';

/**
 * Fault: the Redis server restarted (stopped, down for a few seconds, started again on the same
 * port and directory) under steady load. Redis runs with the append-only file (`appendfsync
 * always`), so the restart keeps what it acknowledged: queued fetch jobs, the event stream and
 * its consumer group, cached clients and sessions.
 */
const FILE = __filename;
const OUTAGE_MS = 4000;
/** The gateway's in-process copy of entries it read (CIMD_LOCAL_CACHE_MS) may answer this long after the stop. */
const LOCAL_CACHE_MS = 1000;
let stack: ProcessStack;

beforeAll(async () => {
  stack = await ProcessStack.start('redis', {
    persistentRedis: true,
    gatewayEnv: { CIMD_AUTHORIZE_WAIT_MS: '1000', CIMD_LOCAL_CACHE_MS: String(LOCAL_CACHE_MS) },
    // Two jobs at a time against a slow origin: a backlog is still queued when Redis stops.
    fetcherEnv: { CIMD_FETCH_CONCURRENCY: '2' },
  });
  stack.origin.prefix('/load/', serveDocument());
  stack.origin.prefix('/warm/', serveDocument());
  stack.origin.prefix('/backlog/', serveDocument(undefined, 250));
  await stack.expect(201, 'POST', '/v1/tenants', { id: 'acme' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

faultTest(
  FILE,
  'Redis restarted under load',
  async (note) => {
    const warm = [1, 2, 3, 4].map((i) => stack.clientId(`/warm/c${i}.json`));
    for (const c of warm) expect((await stack.check('acme', c)).body.decision).toBe('allow');
    const key = (await stack.expect(201, 'POST', '/v1/tenants/acme/keys')).body as { id: string };
    for (const id of ['kept', 'revocable'])
      await stack.expect(201, 'POST', '/v1/tenants/acme/sessions', { session_id: id, client_id: warm[0] });
    const load = new SteadyLoad(stack, {
      tenant: 'acme',
      checkClients: warm,
      sessionClient: warm[0] as string,
      tag: 'redis',
    });
    load.start();
    await sleep(1500);

    // A backlog of fetch jobs, acknowledged (202) just before the outage.
    const backlog = Array.from({ length: 24 }, (_, i) => stack.clientId(`/backlog/b${i}.json`));
    for (const id of backlog) await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: id });
    const fetchedBefore = await stack.inspect.mget(...backlog.map((id) => stack.keys.clientEntry(id)));
    const waitingAtStop = backlog.filter((_, i) => !fetchedBefore[i]);
    const eventsBefore = await stack.inspect.xlen(stack.keys.events);

    load.phase = 'stopping';
    await stack.redis.stop('SIGTERM');
    const downAt = Date.now();
    load.phase = 'outage';
    await sleep(OUTAGE_MS);
    const probe = await stack.check('acme', warm[0] as string);
    expect(probe).toMatchObject({ status: 200, body: { decision: 'pending', error: 'temporarily_unavailable' } });
    // Every route once, HTTP and gRPC, while Redis is down.
    const sweep = await sweepRoutes(stack, {
      tenant: 'acme',
      clientId: warm[0] as string,
      sessionId: 'kept',
      revocableSessionId: 'revocable',
      keyId: key.id,
      tag: 'redis',
    });

    // Answers given while Redis was down for sure: begun after the stop, ended before the start.
    const startingAt = Date.now();
    load.phase = 'recovery';
    await stack.redis.start();
    const upAt = Date.now();
    const recoveryMs = await timeUntil(
      async () => (await stack.check('acme', warm[1] as string)).body?.decision === 'allow',
      upAt,
      15_000,
    );
    load.phase = 'after';
    await sleep(2500);
    await load.stop();

    const down = (kind: 'check' | 'session' | 'refresh') => load.of(kind, 'outage').filter((s) => s.at < startingAt);
    const outageChecks = down('check');
    const outageSessions = down('session');
    const outageRefreshes = down('refresh');
    const maxOutageCheckMs = Math.max(0, ...outageChecks.map((s) => s.ms));
    note(`outage ${upAt - downAt} ms; first allow ${recoveryMs} ms after Redis answered PING`);
    note(
      `during the outage: ${outageChecks.length} checks (${outageChecks.filter((s) => s.what === 'pending').length} pending, slowest ${Math.round(maxOutageCheckMs)} ms), ` +
        `${outageSessions.filter((s) => s.status === 201).length}/${outageSessions.length} sessions 201 (PostgreSQL), ` +
        `${outageRefreshes.filter((s) => s.status === 503).length}/${outageRefreshes.length} refreshes 503`,
    );
    note(`answers: ${JSON.stringify(load.table())}`);
    note(`every route while Redis was down: ${describeSweep(sweep)}`);

    // A revocation acknowledged while Redis was down holds once it is back (Redis still had the session as active).
    const revokeStatus = sweep.find((r) => r.route === 'DELETE session')?.status;
    const revocable = (await stack.api('GET', '/v1/tenants/acme/sessions/revocable')).body as { active?: boolean };
    note(`a session revoked while Redis was down: ${revokeStatus}, reads active=${revocable.active} after the restart`);

    const acknowledged = await verifyAcknowledged(stack, load, 'acme');
    const backlogLost = await verifyFetched(stack, backlog);
    const events = await verifyEventsProcessed(stack);
    note(
      `after: ${acknowledged.sessions} sessions acknowledged (${acknowledged.lostSessions.length} lost), ` +
        `${acknowledged.refreshes} refreshes (${acknowledged.lostRefreshes.length} lost), ` +
        `backlog ${waitingAtStop.length}/${backlog.length} still queued at the stop (${backlogLost.length} lost), ` +
        `${events.events} events (${eventsBefore} before the outage; ${events.lost.length} unprocessed)`,
    );

    const lost =
      acknowledged.lostSessions.length + acknowledged.lostRefreshes.length + backlogLost.length + events.lost.length;
    const checked = acknowledged.sessions + acknowledged.refreshes + backlog.length + events.events;
    record(
      'lost',
      {
        tried: checked,
        passed: checked - lost,
        lost,
        fivexx: load.escaped.length + sweep.filter((r) => r.escaped).length,
        details: [
          ...acknowledged.lostSessions.map((s) => `session ${s}`),
          ...acknowledged.lostRefreshes.map((r) => `refresh ${r}`),
          ...backlogLost.map((r) => `backlog ${r}`),
          ...events.lost.map((e) => `event ${e}`),
          ...load.escaped,
        ],
      },
      FILE,
    );

    expect(load.escaped).toEqual([]);
    expect(sweep.filter((r) => r.escaped)).toEqual([]);
    // Either refused (503, nothing changed) or done for good.
    expect([revokeStatus, revocable.active]).toEqual(revokeStatus === 204 ? [204, false] : [503, true]);
    // Pending once the in-process copies have expired; before that a copy read ≤ 1 s ago may allow.
    const pastLocalCopies = outageChecks.filter((s) => s.at - s.ms >= downAt + LOCAL_CACHE_MS);
    expect(pastLocalCopies.length).toBeGreaterThan(0);
    expect(pastLocalCopies.every((s) => s.status === 200 && s.what === 'pending')).toBe(true);
    expect(outageChecks.every((s) => s.status === 200 && ['pending', 'allow'].includes(s.what))).toBe(true);
    expect(maxOutageCheckMs).toBeLessThan(3000);
    expect(outageRefreshes.every((s) => s.status === 503 && s.what === 'temporarily_unavailable')).toBe(true);
    expect(recoveryMs).toBeLessThan(5000);
    expect(waitingAtStop.length).toBeGreaterThan(0);
    expect(acknowledged.lostSessions).toEqual([]);
    expect(acknowledged.lostRefreshes).toEqual([]);
    expect(backlogLost).toEqual([]);
    expect(events.lost).toEqual([]);
    expect(load.of('check', 'after').every((s) => s.status === 200 && s.what === 'allow')).toBe(true);
  },
  120_000,
);
