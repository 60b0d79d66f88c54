import { PrivateRedisSentinels } from './support/redis-topologies';
import { startTopologyStack, topologyTests } from './support/topology';

/**
 * Redis Sentinel: a primary, a replica and three sentinels (quorum two), two gateways and two
 * fetchers given REDIS_SENTINELS and REDIS_SENTINEL_MASTER. The end-to-end paths pass across
 * them; then the primary is SIGKILLed under steady load and the sentinels promote the replica:
 * checks answer allow or pending, never a 5xx; every session registered or revoked, every fetch
 * job and every event acknowledged is there afterwards; the queue keeps draining.
 */
let sentinels: PrivateRedisSentinels;

topologyTests(__filename, {
  category: 'redis_sentinel',
  label: 'redis-sentinel',
  tag: 'sentinel',
  pathsTest: 'the end-to-end paths pass through Sentinel, across two gateways and two fetchers',
  failoverTest: 'Redis Sentinel: the primary SIGKILLed under load, the replica promoted by the sentinels',
  start: () =>
    startTopologyStack('sentinel', async () => (sentinels = await PrivateRedisSentinels.start({ downAfterMs: 1000 }))),
  victim: async () => ({ port: (await sentinels.primary()).port, kill: () => sentinels.killPrimary() }),
  primaryPort: async () => (await sentinels.primary()).port,
});
