import { RedisKeys } from '@cimd/contracts';
import { PrivateRedisCluster } from './support/redis-topologies';
import { startTopologyStack, topologyTests } from './support/topology';

/**
 * Redis Cluster: three primaries with one replica each (redis-server --cluster-enabled yes,
 * redis-cli --cluster create), two gateways and two fetchers given REDIS_CLUSTER_NODES. The
 * end-to-end paths pass across them; then the primary holding the BullMQ queues and the client
 * event stream (and a third of the clients) is SIGKILLed under steady load and its replica
 * promoted: checks answer allow or pending, never a 5xx; every session registered or revoked,
 * every fetch job and every event acknowledged is there afterwards; the queue keeps draining.
 */
let cluster: PrivateRedisCluster;

topologyTests(__filename, {
  category: 'redis_cluster',
  label: 'redis-cluster',
  tag: 'cluster',
  pathsTest: 'the end-to-end paths pass on the cluster, across two gateways and two fetchers',
  failoverTest:
    'Redis Cluster: the primary of the queues and the event stream SIGKILLed under load, its replica promoted',
  start: async () => {
    cluster = await PrivateRedisCluster.start({ primaries: 3, replicas: 1, nodeTimeoutMs: 2000 });
    // A stack name whose event stream lives on the shard of the queues ({bull}), so that one kill
    // takes the queues, the stream and the clients of that shard at once.
    let name = '';
    for (let i = 0; !name && i < 200; i++) {
      const candidate = `cluster-${i}`;
      const keys = new RedisKeys(`rel-${candidate}`);
      const [queues, stream] = await Promise.all([
        cluster.primaryOf(`${keys.queuePrefix}:cimd-fetch:wait`),
        cluster.primaryOf(keys.events),
      ]);
      if (queues === stream) name = candidate;
    }
    if (!name) throw new Error('no stack name puts the event stream on the shard of the queues');
    return startTopologyStack(name, () => Promise.resolve(cluster));
  },
  victim: async (t) => {
    const victim = await cluster.primaryOf(t.stack.keys.events);
    return {
      port: victim.port,
      holds: 'queues, event stream, a third of the clients',
      kill: () => cluster.killPrimary(victim),
    };
  },
  primaryPort: async (t) => (await cluster.primaryOf(t.stack.keys.events)).port,
});
