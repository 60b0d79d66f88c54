import { faultTest } from './support/fault';
import { PrivateRedisSentinels } from './support/redis-topologies';
import { record } from './support/results';
import { ProcessStack } from './support/stack';
import {
  endToEndPaths,
  FailoverResult,
  failoverUnderLoad,
  GATEWAYS,
  prepare,
  TopologyStack,
  topologyCounts,
} from './support/topology';

/**
 * Redis Sentinel: a primary, a replica and three sentinels (quorum two), two gateways and two
 * fetchers given REDIS_SENTINELS and REDIS_SENTINEL_MASTER. The end-to-end paths pass across
 * them; then the primary is SIGKILLed under steady load and the sentinels promote the replica:
 * checks answer allow or pending, never a 5xx; every session registered or revoked, every fetch
 * job and every event acknowledged is there afterwards; the queue keeps draining.
 */
const FILE = __filename;
let t: TopologyStack;
let sentinels: PrivateRedisSentinels;
const paths = { tried: 0, passed: 0 };
let failover: FailoverResult | undefined;

beforeAll(async () => {
  const stack = await ProcessStack.start('sentinel', {
    hosts: ['client.test', 'hooks.test'],
    redisServers: async () => (sentinels = await PrivateRedisSentinels.start({ downAfterMs: 1000 })),
    gateways: GATEWAYS,
    gatewayEnv: { CIMD_AUTHORIZE_WAIT_MS: '2000', CIMD_EVENTS_CLAIM_IDLE_MS: '3000' },
    fetcherEnv: {
      CIMD_GONE_CONFIRM_DELAY_MS: '300',
      CIMD_FETCH_LOCK_DURATION_MS: '5000',
      CIMD_FETCH_STALLED_INTERVAL_MS: '2000',
    },
  });
  await stack.startFetcher();
  t = await prepare(stack);
}, 180_000);

afterAll(async () => {
  record('redis_sentinel', topologyCounts(paths, failover), FILE);
  await t?.stack.stop();
});

it('the end-to-end paths pass through Sentinel, across two gateways and two fetchers', async () => {
  paths.tried = 6;
  const done = await endToEndPaths(t);
  paths.passed = done.length;
  for (const line of done) process.stdout.write(`  [redis-sentinel] ${line}\n`);
}, 120_000);

faultTest(
  FILE,
  'Redis Sentinel: the primary SIGKILLed under load, the replica promoted by the sentinels',
  async (note) => {
    const old = await sentinels.primary();
    note(`killing the primary on port ${old.port}`);
    failover = await failoverUnderLoad(t, 'sentinel', () => sentinels.killPrimary(), note);
    expect(failover.escaped).toEqual([]);
    expect(failover.badChecks).toEqual([]);
    expect(failover.lost).toEqual([]);
    expect(failover.checks).toBeGreaterThan(50);
    expect(failover.sessions).toBeGreaterThan(10);
    expect(failover.revocations).toBeGreaterThan(5);
    expect(failover.refreshes).toBeGreaterThan(10);
    expect(failover.registered).toBe(failover.refreshes);
    expect((await sentinels.primary()).port).not.toBe(old.port);
  },
  180_000,
);
