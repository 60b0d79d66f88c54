import { faultTest, verifyEventsProcessed } from './fault';
import { SteadyLoad, verifyAcknowledged } from './load';
import { serveDocument } from './origin';
import { record, ResultCounts } from './results';
import type { RedisServers } from './redis-topologies';
import { sleep } from './servers';
import { ApiResponse, ProcessStack } from './stack';

/**
 * What the Redis Cluster and Sentinel files share: a stack of two gateways and two fetchers on
 * that Redis, the end-to-end paths run across them, and a primary killed under steady load with
 * everything acknowledged counted afterwards. Each file records one category
 * (`redis_cluster`, `redis_sentinel`), which the suite's summary prints as one line.
 */
export const GATEWAYS = 2;
export const SECRET = 'reliability-webhook-secret-0123456789';

/** Webhooks the tenant `acme` received (its policy points at /hook/acme on hooks.test). */
export interface Hook {
  eventId: string;
  type: string;
  clientId: string | null;
}

export interface TopologyStack {
  stack: ProcessStack;
  hooks: Hook[];
  /** Paths under /gone/ answer 404 once listed here. */
  vanished: Set<string>;
}

/**
 * The stack of a topology file on `redisServers`: two gateways and two fetchers with the short
 * claim, lock and gone-confirmation times a failover within the test's minutes needs, then its
 * origin routes and tenants.
 */
export async function startTopologyStack(
  name: string,
  redisServers: () => Promise<RedisServers>,
): Promise<TopologyStack> {
  const stack = await ProcessStack.start(name, {
    hosts: ['client.test', 'hooks.test'],
    redisServers,
    gateways: GATEWAYS,
    gatewayEnv: { CIMD_AUTHORIZE_WAIT_MS: '2000', CIMD_EVENTS_CLAIM_IDLE_MS: '3000' },
    fetcherEnv: {
      CIMD_GONE_CONFIRM_DELAY_MS: '300',
      CIMD_FETCH_LOCK_DURATION_MS: '5000',
      CIMD_FETCH_STALLED_INTERVAL_MS: '2000',
    },
  });
  await stack.startFetcher();
  return prepare(stack);
}

/** The origin routes and tenants of a topology file (after ProcessStack.start with hosts client.test and hooks.test). */
export async function prepare(stack: ProcessStack): Promise<TopologyStack> {
  const hooks: Hook[] = [];
  const vanished = new Set<string>();
  for (const prefix of ['/load/', '/warm/', '/miss/', '/refresh/']) stack.origin.prefix(prefix, serveDocument());
  stack.origin.prefix('/herd/', serveDocument(undefined, 300));
  stack.origin.prefix('/gone/', (req, res, body) => {
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (vanished.has(path)) res.writeHead(404, { 'content-type': 'text/plain' }).end('gone');
    else serveDocument()(req, res, body);
  });
  stack.origin.prefix('/hook/', (req, res, body) => {
    try {
      const parsed = JSON.parse(body) as { type?: string; client_id?: string | null };
      hooks.push({
        eventId: String(req.headers['x-cimd-event-id']),
        type: parsed.type ?? '?',
        clientId: parsed.client_id ?? null,
      });
    } catch {
      hooks.push({ eventId: String(req.headers['x-cimd-event-id']), type: 'unparsable', clientId: null });
    }
    res.writeHead(204).end();
  });
  await stack.expect(201, 'POST', '/v1/tenants', {
    id: 'acme',
    policy: { webhook: { url: stack.clientId('/hook/acme', 'hooks.test'), secret: SECRET } },
  });
  await stack.expect(201, 'POST', '/v1/tenants', { id: 'beta' });
  return { stack, hooks, vanished };
}

async function until<T>(what: string, check: () => Promise<T | undefined>, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${limitMs} ms`);
    await sleep(100);
  }
}

const allow = (r: ApiResponse) => r.status === 200 && r.body?.decision === 'allow';

/**
 * The end-to-end paths, each through both gateways and whichever fetcher takes the job. Returns
 * one line per path; throws on the first that does not hold.
 */
export async function endToEndPaths(t: TopologyStack): Promise<string[]> {
  const { stack } = t;
  const done: string[] = [];

  // Miss: a client nobody asked about, checked on the second gateway, then a hit on the first.
  const missed = stack.clientId('/miss/first.json');
  const first = await stack.check('acme', missed, undefined, 1);
  if (!allow(first) || first.body.cache?.status !== 'fetched')
    throw new Error(`miss: ${first.status} ${JSON.stringify(first.body)}`);
  const hit = await stack.check('acme', missed, undefined, 0);
  if (!allow(hit)) throw new Error(`miss, then a hit on the other gateway: ${hit.status} ${JSON.stringify(hit.body)}`);
  done.push('miss: fetched on one gateway, a hit on the other');

  // Herd: 100 checks at once of one new client, half on each gateway: one origin request fleet-wide.
  const herd = stack.clientId('/herd/h.json');
  const answers = await Promise.all(
    Array.from({ length: 100 }, (_, i) => stack.check('acme', herd, undefined, i % GATEWAYS)),
  );
  const origin = stack.origin.seen.filter((s) => s.path === '/herd/h.json').length;
  if (!answers.every(allow) || origin !== 1)
    throw new Error(`herd: ${answers.filter(allow).length}/100 allowed, ${origin} origin requests`);
  done.push(`herd: 100/100 allowed across ${GATEWAYS} gateways, 1 origin request`);

  // Refresh: an admin refresh on one gateway; the document is fetched again and its copy replaced.
  const refreshed = stack.clientId('/refresh/r.json');
  if (!allow(await stack.check('acme', refreshed))) throw new Error('refresh: the first check did not allow');
  const before = JSON.parse((await stack.inspect.get(stack.keys.clientEntry(refreshed))) ?? '{}') as {
    fetched_at?: number;
  };
  await sleep(20);
  await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: refreshed });
  await until('refresh: a newer copy', async () => {
    const now = JSON.parse((await stack.inspect.get(stack.keys.clientEntry(refreshed))) ?? '{}') as {
      fetched_at?: number;
    };
    return (now.fetched_at ?? 0) > (before.fetched_at ?? 0) ? true : undefined;
  });
  done.push('refresh: fetched again, the copy replaced');

  // Gone → revocation: sessions in two tenants on both gateways; the document vanishes; once
  // confirmed gone every session reads revoked on both gateways, and acme's webhook arrives.
  const doomed = stack.clientId('/gone/doomed.json');
  if (!allow(await stack.check('acme', doomed))) throw new Error('gone: the first check did not allow');
  const sessions = ['acme', 'beta'].flatMap((tenant) => [0, 1, 2, 3].map((i) => ({ tenant, id: `doomed-${i}` })));
  for (const [i, s] of sessions.entries()) {
    const r = await stack.api('POST', `/v1/tenants/${s.tenant}/sessions`, {
      body: { session_id: s.id, client_id: doomed },
      gateway: i % GATEWAYS,
    });
    if (r.status !== 201) throw new Error(`gone: session ${s.tenant}/${s.id} answered ${r.status}`);
  }
  t.vanished.add('/gone/doomed.json');
  await stack.expect(202, 'POST', '/v1/clients/refresh', { client_id: doomed });
  await until('gone: every session revoked on both gateways', async () => {
    for (const [i, s] of sessions.entries()) {
      for (const gateway of [i % GATEWAYS, (i + 1) % GATEWAYS]) {
        const r = await stack.api('GET', `/v1/tenants/${s.tenant}/sessions/${s.id}`, { gateway });
        if (r.status !== 200 || r.body?.active !== false) return undefined;
      }
    }
    return true;
  });
  const refused = await stack.check('acme', doomed, undefined, 1);
  if (refused.status !== 200 || refused.body?.decision !== 'deny')
    throw new Error(`gone: a check after it answered ${refused.status} ${JSON.stringify(refused.body)}`);
  for (const tenant of ['acme', 'beta']) {
    await until(`gone: ${tenant}'s session.revoked event`, async () => {
      const r = await stack.api('GET', `/v1/tenants/${tenant}/events?after=0&limit=1000`);
      return (r.body?.events as { type: string; client_id: string }[] | undefined)?.some(
        (e) => e.type === 'session.revoked' && e.client_id === doomed,
      )
        ? true
        : undefined;
    });
  }
  done.push('gone → revocation: 8 sessions in 2 tenants revoked, read so on both gateways, checks denied');

  // Events: everything on the client event stream was applied once (processed_events), nothing pending.
  const events = await verifyEventsProcessed(stack);
  if (events.lost.length > 0) throw new Error(`events: ${events.lost.length} unprocessed`);
  done.push(`events: ${events.events} on the stream, all processed`);

  // Webhooks: acme's session.revoked, delivered by a fetcher, signed, with the event's id.
  const hook = await until('webhook: session.revoked delivered to acme', () =>
    Promise.resolve(t.hooks.find((h) => h.type === 'session.revoked' && h.clientId === doomed)),
  );
  if (!/^\d+$/.test(hook.eventId)) throw new Error(`webhook: event id ${hook.eventId}`);
  done.push('webhooks: session.revoked delivered to acme');
  return done;
}

/** What one failover under load measured; `lost` lists what did not survive. */
export interface FailoverResult {
  failoverMs: number;
  checks: number;
  checksAllowed: number;
  checksPending: number;
  sessions: number;
  revocations: number;
  refreshes: number;
  events: number;
  registered: number;
  lost: string[];
  escaped: string[];
  badChecks: string[];
  table: Record<string, Record<string, number>>;
}

/**
 * Steady load (checks, session registrations and revocations, fetch jobs) on both gateways; the
 * primary killed by `kill` (which resolves once a replica has taken over, with the time it
 * took); more load; then every acknowledged item counted: sessions and revocations read as
 * left, every fetch job done and its client.fetched event applied (the client is in
 * PostgreSQL's registry), every stream entry processed.
 */
export async function failoverUnderLoad(
  t: TopologyStack,
  tag: string,
  kill: () => Promise<number>,
  note: (line: string) => void,
): Promise<FailoverResult> {
  const { stack } = t;
  const warm = [1, 2, 3, 4].map((i) => stack.clientId(`/warm/${tag}-c${i}.json`));
  for (const c of warm) {
    const r = await stack.check('acme', c);
    if (!allow(r)) throw new Error(`warm-up: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const load = new SteadyLoad(stack, {
    tenant: 'acme',
    checkClients: warm,
    sessionClient: warm[0] as string,
    tag,
    kinds: ['check', 'session', 'revoke', 'refresh'],
    gateways: GATEWAYS,
  }).start();
  await sleep(2000);
  load.phase = 'failover';
  const failoverMs = await kill();
  load.phase = 'after';
  await sleep(3000);
  await load.stop();

  const acknowledged = await verifyAcknowledged(stack, load, 'acme', GATEWAYS);
  // Each fetch acknowledged: its client.fetched event reached a gateway (the client is registered).
  const refreshed = load.refreshes.map((r) => r.clientId);
  let unregistered: string[] = [];
  const deadline = Date.now() + 30_000;
  for (;;) {
    const rows = await stack.query<{ client_id: string }>(
      "SELECT client_id FROM clients WHERE client_id = ANY($1) AND status = 'valid'",
      [refreshed],
    );
    const known = new Set(rows.map((r) => r.client_id));
    unregistered = refreshed.filter((id) => !known.has(id));
    if (unregistered.length === 0 || Date.now() > deadline) break;
    await sleep(250);
  }
  const events = await verifyEventsProcessed(stack);
  const checks = load.of('check');
  const badChecks = checks
    .filter((s) => !(s.status === 200 && ['allow', 'pending'].includes(s.what)))
    .map((s) => `${s.phase}: ${s.status} ${s.what}`);
  const lost = [
    ...acknowledged.lostSessions.map((s) => `session ${s}`),
    ...acknowledged.lostRevocations.map((s) => `revocation ${s}`),
    ...acknowledged.lostRefreshes.map((r) => `fetch job ${r}`),
    ...unregistered.map((r) => `client.fetched of ${r}`),
    ...events.lost.map((e) => `event ${e}`),
  ];
  const result: FailoverResult = {
    failoverMs,
    checks: checks.length,
    checksAllowed: checks.filter((s) => s.status === 200 && s.what === 'allow').length,
    checksPending: checks.filter((s) => s.status === 200 && s.what === 'pending').length,
    sessions: acknowledged.sessions,
    revocations: acknowledged.revocations,
    refreshes: acknowledged.refreshes,
    events: events.events,
    registered: refreshed.length - unregistered.length,
    lost,
    escaped: load.escaped,
    badChecks,
    table: load.table(),
  };
  const slowest = Math.max(0, ...load.of('check', 'failover').map((c) => c.ms));
  note(`replica serving ${failoverMs} ms after the kill; slowest check meanwhile ${Math.round(slowest)} ms`);
  note(
    `${result.checks} checks (${result.checksAllowed} allow, ${result.checksPending} pending, ${badChecks.length} other), ` +
      `${result.sessions} sessions, ${result.revocations} revocations, ${result.refreshes} fetch jobs, ` +
      `${result.registered} client.fetched applied, ${result.events} stream events; lost: ${lost.length}`,
  );
  note(`answers: ${JSON.stringify(result.table)}`);
  return result;
}

/**
 * What every topology must survive a primary's kill with: nothing acknowledged lost, no 5xx, only
 * allow or pending answers, enough load to say so, and the queue draining after it (jobs
 * acknowledged after the failover were all done).
 */
function expectFailoverSurvived(failover: FailoverResult): void {
  expect(failover.escaped).toEqual([]);
  expect(failover.badChecks).toEqual([]);
  expect(failover.lost).toEqual([]);
  expect(failover.checks).toBeGreaterThan(50);
  expect(failover.sessions).toBeGreaterThan(10);
  expect(failover.revocations).toBeGreaterThan(5);
  expect(failover.refreshes).toBeGreaterThan(10);
  expect(failover.registered).toBe(failover.refreshes);
}

/**
 * What a topology file records under its category: tried/passed/lost count the acknowledged
 * items checked after the failover (sessions, revocations, fetch jobs and their client.fetched
 * events, stream entries); `extra` carries the paths, the failover and the checks for the
 * summary line.
 */
export function topologyCounts(paths: { tried: number; passed: number }, failover?: FailoverResult): ResultCounts {
  const checked = failover ? failover.sessions + failover.revocations + 2 * failover.refreshes + failover.events : 0;
  const lost = failover?.lost.length ?? 0;
  const fivexx = failover?.badChecks.filter((b) => /: 5\d\d /.test(b)).length ?? 0;
  return {
    tried: checked,
    passed: checked - lost,
    lost,
    fivexx: fivexx + (failover?.escaped.length ?? 0),
    details: [...(failover?.lost ?? []), ...(failover?.escaped ?? []), ...(failover?.badChecks ?? [])],
    extra: {
      paths_tried: paths.tried,
      paths_passed: paths.passed,
      failovers: failover ? 1 : 0,
      failovers_survived:
        failover && lost === 0 && failover.badChecks.length === 0 && failover.escaped.length === 0 ? 1 : 0,
      failover_ms: failover?.failoverMs ?? 0,
      checks: failover?.checks ?? 0,
      checks_allow: failover?.checksAllowed ?? 0,
      checks_pending: failover?.checksPending ?? 0,
      checks_other: failover?.badChecks.length ?? 0,
      sessions: failover?.sessions ?? 0,
      revocations: failover?.revocations ?? 0,
      fetch_jobs: failover?.refreshes ?? 0,
      events: failover?.events ?? 0,
    },
  };
}

/** How a topology file's Redis loses its primary. */
export interface Topology {
  /** The results category and the log label (`redis_cluster`, `redis-cluster`). */
  category: 'redis_cluster' | 'redis_sentinel';
  label: string;
  /** The tag of the load's clients and sessions. */
  tag: string;
  pathsTest: string;
  failoverTest: string;
  /** The stack on this Redis (startTopologyStack). */
  start: () => Promise<TopologyStack>;
  /** The primary to kill: its port, what it holds (for the log), and its kill, which resolves once a replica serves. */
  victim: (t: TopologyStack) => Promise<{ port: number; holds?: string; kill: () => Promise<number> }>;
  /** The port of the primary serving now what the victim served. */
  primaryPort: (t: TopologyStack) => Promise<number>;
}

/**
 * The tests of a topology file (`file`): the stack started, the end-to-end paths across it,
 * then its primary killed under load, which it must survive and after which another primary
 * serves; the counts recorded under the topology's category.
 */
export function topologyTests(file: string, topology: Topology): void {
  let t: TopologyStack | undefined;
  const paths = { tried: 0, passed: 0 };
  let failover: FailoverResult | undefined;

  beforeAll(async () => {
    t = await topology.start();
  }, 180_000);

  afterAll(async () => {
    record(topology.category, topologyCounts(paths, failover), file);
    await t?.stack.stop();
  });

  it(
    topology.pathsTest,
    async () => {
      paths.tried = 6;
      const done = await endToEndPaths(t as TopologyStack);
      paths.passed = done.length;
      for (const line of done) process.stdout.write(`  [${topology.label}] ${line}\n`);
    },
    120_000,
  );

  faultTest(
    file,
    topology.failoverTest,
    async (note) => {
      const stack = t as TopologyStack;
      const victim = await topology.victim(stack);
      note(`killing the primary on port ${victim.port}${victim.holds ? ` (${victim.holds})` : ''}`);
      failover = await failoverUnderLoad(stack, topology.tag, victim.kill, note);
      expectFailoverSurvived(failover);
      expect(await topology.primaryPort(stack)).not.toBe(victim.port);
    },
    180_000,
  );
}
