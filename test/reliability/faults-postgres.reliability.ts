import { faultTest, timeUntil, verifyEventsProcessed } from './support/fault';
import { escaped5xx, SteadyLoad, verifyAcknowledged } from './support/load';
import { serveDocument } from './support/origin';
import { record } from './support/results';
import { sleep } from './support/servers';
import { ProcessStack } from './support/stack';
import { describeSweep, sweepRoutes } from './support/sweep';

/**
 * Fault: PostgreSQL stopped (`pg_ctl stop -m fast`: every connection ended, new ones refused)
 * under steady load and concurrent writes, then started again. The cluster is the test's own.
 */
const FILE = __filename;
const OUTAGE_MS = 6000;
let stack: ProcessStack;
let doomedGone = false;

beforeAll(async () => {
  stack = await ProcessStack.start('postgres', {
    privatePostgres: true,
    fetcherEnv: { CIMD_GONE_CONFIRM_DELAY_MS: '300' },
  });
  stack.origin.prefix('/load/', serveDocument());
  stack.origin.prefix('/warm/', serveDocument());
  stack.origin.route('/doomed.json', (req, res) => {
    if (doomedGone) res.writeHead(404).end();
    else serveDocument()(req, res, '');
  });
  await stack.expect(201, 'POST', '/v1/tenants', { id: 'acme' });
  await stack.expect(201, 'POST', '/v1/tenants', { id: 'beta' });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
});

/** Concurrent writes that each need PostgreSQL: new tenants with a policy, and policy versions. */
class Writer {
  readonly answers: { what: string; id: string; status: number; body: unknown; phase: string }[] = [];
  phase = 'before';
  private running = true;
  private readonly done: Promise<void>;

  constructor(private readonly s: ProcessStack) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    for (let n = 0; this.running && n < 2000; n++) {
      const phase = this.phase;
      if (n % 2 === 0) {
        const id = `w${n}`;
        const r = await this.s.api('POST', '/v1/tenants', { body: { id, policy: { deny_hosts: [`w${n}.test`] } } });
        this.answers.push({ what: 'tenant', id, status: r.status, body: r.body, phase });
      } else {
        const r = await this.s.api('PUT', '/v1/tenants/beta/policy', { body: { new_client_warning_seconds: n } });
        this.answers.push({ what: 'policy', id: String(r.body?.version ?? ''), status: r.status, body: r.body, phase });
      }
      await sleep(15);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.done;
  }
}

faultTest(
  FILE,
  'PostgreSQL stopped under load and writes',
  async (note) => {
    const warm = [1, 2, 3, 4].map((i) => stack.clientId(`/warm/c${i}.json`));
    const key = (await stack.expect(201, 'POST', '/v1/tenants/acme/keys')).body as { id: string; key: string };
    const spare = (await stack.expect(201, 'POST', '/v1/tenants/acme/keys')).body as { id: string };
    for (const c of warm) expect((await stack.check('acme', c, key.key)).body.decision).toBe('allow');
    const doomed = stack.clientId('/doomed.json');
    expect((await stack.check('acme', doomed)).body.decision).toBe('allow');
    for (const [tenant, n] of [
      ['acme', 5],
      ['beta', 3],
    ] as const) {
      for (let i = 0; i < n; i++)
        await stack.expect(201, 'POST', `/v1/tenants/${tenant}/sessions`, {
          session_id: `doomed-${i}`,
          client_id: doomed,
        });
    }
    for (const id of ['kept', 'revocable'])
      await stack.expect(201, 'POST', '/v1/tenants/acme/sessions', { session_id: id, client_id: warm[0] });
    await stack.api('GET', '/v1/tenants/acme/sessions/kept'); // cached in Redis

    const load = new SteadyLoad(stack, {
      tenant: 'acme',
      checkClients: warm,
      sessionClient: warm[0] as string,
      checkToken: key.key,
      tag: 'pg',
    }).start();
    const writer = new Writer(stack);
    await sleep(1500);

    load.phase = writer.phase = 'stopping';
    await stack.postgres?.stop('fast');
    const downAt = Date.now();
    load.phase = writer.phase = 'outage';
    await sleep(500);
    const sweep = await sweepRoutes(stack, {
      tenant: 'acme',
      clientId: warm[0] as string,
      sessionId: 'kept',
      revocableSessionId: 'revocable',
      keyId: spare.id,
      tag: 'pg',
    });
    // The doomed client's document disappears while PostgreSQL is down: the fetcher (no
    // PostgreSQL) declares it gone, checks deny at once from Redis; the revocation must wait.
    doomedGone = true;
    await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: doomed });
    const deniedInMs = await timeUntil(
      async () => (await stack.check('acme', doomed, key.key)).body?.reason === 'document.gone',
      Date.now(),
      10_000,
    );
    await sleep(Math.max(0, OUTAGE_MS - (Date.now() - downAt)));

    const startingAt = Date.now();
    load.phase = writer.phase = 'recovery';
    await stack.postgres?.start();
    const upAt = Date.now();
    const writesBackMs = await timeUntil(
      async () =>
        (
          await stack.api('POST', '/v1/tenants/acme/sessions', {
            body: { session_id: `probe-${Date.now()}`, client_id: warm[1] },
          })
        ).status === 201,
      upAt,
      15_000,
    );
    load.phase = writer.phase = 'after';
    await sleep(2500);
    await Promise.all([load.stop(), writer.stop()]);

    const down = (kind: 'check' | 'session' | 'refresh') => load.of(kind, 'outage').filter((s) => s.at < startingAt);
    const outageChecks = down('check');
    const outageSessions = down('session');
    const outageRefreshes = down('refresh');
    const outageWrites = writer.answers.filter((a) => a.phase === 'outage');
    const description = (sweep.find((r) => r.route === 'POST session')?.description ?? '').slice(0, 120);
    note(`outage ${upAt - downAt} ms; writes answered 201 again ${writesBackMs} ms after PostgreSQL was up`);
    note(
      `during the outage: ${outageChecks.filter((s) => s.what === 'allow').length}/${outageChecks.length} checks allowed from Redis, ` +
        `${outageSessions.filter((s) => s.status === 503).length}/${outageSessions.length} session registrations 503, ` +
        `${outageRefreshes.filter((s) => s.status === 202).length}/${outageRefreshes.length} refreshes 202, ` +
        `${outageWrites.filter((w) => w.status === 503).length}/${outageWrites.length} tenant/policy writes 503 ("${description}")`,
    );
    note(`gone client denied from Redis ${deniedInMs} ms after its refresh, PostgreSQL still down`);
    note(`every route while PostgreSQL was down: ${describeSweep(sweep)}`);
    note(`answers: ${JSON.stringify(load.table())}`);

    // Nothing half-written: every tenant has its policy, every acknowledged write is there.
    const orphans = await stack.query(
      'SELECT t.id FROM tenants t LEFT JOIN tenant_policies p ON p.tenant_id = t.id WHERE p.tenant_id IS NULL',
    );
    const tenants = new Set((await stack.query<{ id: string }>('SELECT id FROM tenants')).map((r) => r.id));
    const versions = new Set(
      (await stack.query<{ version: number }>("SELECT version FROM tenant_policies WHERE tenant_id = 'beta'")).map(
        (r) => String(r.version),
      ),
    );
    const lostWrites = writer.answers.filter(
      (a) =>
        (a.what === 'tenant' && a.status === 201 && !tenants.has(a.id)) ||
        (a.what === 'policy' && a.status === 200 && !versions.has(a.id)),
    );
    const writeEscaped = writer.answers
      .filter((a) => escaped5xx(a))
      .map((a) => `${a.what} ${a.id} ${a.phase}: ${a.status} ${JSON.stringify(a.body)}`);
    note(
      `writes: ${writer.answers.filter((a) => a.status < 300).length} acknowledged, ${lostWrites.length} lost; ${orphans.length} tenants without a policy`,
    );

    // The gone client's sessions: revoked exactly once per tenant once PostgreSQL is back.
    const revokedInMs = await timeUntil(
      async () =>
        (await stack.query('SELECT 1 FROM sessions WHERE client_id = $1 AND revoked_at IS NULL', [doomed])).length ===
        0,
      upAt,
      20_000,
      200,
    );
    const revocations = await stack.query<{ tenant_id: string; sessions: number }>(
      'SELECT tenant_id, sessions FROM revocations WHERE client_id = $1 ORDER BY tenant_id',
      [doomed],
    );
    const revokedEvents = await stack.query<{ tenant_id: string }>(
      "SELECT tenant_id FROM tenant_events WHERE client_id = $1 AND type = 'session.revoked' ORDER BY tenant_id",
      [doomed],
    );
    note(
      `gone client: sessions revoked ${revokedInMs} ms after PostgreSQL was up; revocations ${JSON.stringify(revocations)}`,
    );

    const acknowledged = await verifyAcknowledged(stack, load, 'acme');
    const events = await verifyEventsProcessed(stack);
    note(
      `after: ${acknowledged.sessions} sessions (${acknowledged.lostSessions.length} lost), ${acknowledged.refreshes} refreshes (${acknowledged.lostRefreshes.length} lost), ${events.events} events (${events.lost.length} unprocessed)`,
    );

    const escaped = [
      ...load.escaped,
      ...writeEscaped,
      ...sweep.filter((r) => r.escaped).map((r) => `${r.route}: ${r.status}`),
    ];
    const lost =
      acknowledged.lostSessions.length + acknowledged.lostRefreshes.length + events.lost.length + lostWrites.length;
    const checked =
      acknowledged.sessions +
      acknowledged.refreshes +
      events.events +
      writer.answers.filter((a) => a.status < 300).length;
    record(
      'lost',
      {
        tried: checked,
        passed: checked - lost,
        lost,
        fivexx: escaped.length,
        details: [
          ...acknowledged.lostSessions,
          ...acknowledged.lostRefreshes,
          ...events.lost,
          ...lostWrites.map((w) => `${w.what} ${w.id}`),
          ...escaped,
        ],
      },
      FILE,
    );

    expect(escaped).toEqual([]);
    expect(outageChecks.length).toBeGreaterThan(0);
    expect(outageChecks.every((s) => s.status === 200 && s.what === 'allow')).toBe(true);
    expect(outageSessions.length).toBeGreaterThan(0);
    expect(outageSessions.every((s) => s.status === 503 && s.what === 'temporarily_unavailable')).toBe(true);
    expect(outageWrites.every((w) => w.status === 503)).toBe(true);
    expect(description).toMatch(/PostgreSQL/);
    expect(outageRefreshes.every((s) => s.status === 202)).toBe(true);
    expect(deniedInMs).toBeLessThan(10_000);
    expect(writesBackMs).toBeLessThan(10_000);
    expect(orphans).toEqual([]);
    expect(lostWrites).toEqual([]);
    expect(revokedInMs).toBeLessThan(20_000);
    expect(revocations).toEqual([
      { tenant_id: 'acme', sessions: 5 },
      { tenant_id: 'beta', sessions: 3 },
    ]);
    expect(revokedEvents.map((e) => e.tenant_id)).toEqual(['acme', 'beta']);
    expect(acknowledged.lostSessions).toEqual([]);
    expect(acknowledged.lostRefreshes).toEqual([]);
    expect(events.lost).toEqual([]);
  },
  120_000,
);
