import { faultTest } from './support/fault';
import { PrivateRedisSentinels } from './support/redis-topologies';
import { record } from './support/results';
import {
  countEndToEndPaths,
  expectFailoverSurvived,
  FailoverResult,
  failoverUnderLoad,
  startTopologyStack,
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
  t = await startTopologyStack(
    'sentinel',
    async () => (sentinels = await PrivateRedisSentinels.start({ downAfterMs: 1000 })),
  );
}, 180_000);

afterAll(async () => {
  record('redis_sentinel', topologyCounts(paths, failover), FILE);
  await t?.stack.stop();
});

it('the end-to-end paths pass through Sentinel, across two gateways and two fetchers', async () => {
  await countEndToEndPaths(t, paths, 'redis-sentinel');
}, 120_000);

faultTest(
  FILE,
  'Redis Sentinel: the primary SIGKILLed under load, the replica promoted by the sentinels',
  async (note) => {
    const old = await sentinels.primary();
    note(`killing the primary on port ${old.port}`);
    failover = await failoverUnderLoad(t, 'sentinel', () => sentinels.killPrimary(), note);
    expectFailoverSurvived(failover);
    expect((await sentinels.primary()).port).not.toBe(old.port);
  },
  180_000,
);
