import { RedisKeys } from '@cimd/contracts';
import { faultTest } from './support/fault';
import { PrivateRedisCluster } from './support/redis-topologies';
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
 * Redis Cluster: three primaries with one replica each (redis-server --cluster-enabled yes,
 * redis-cli --cluster create), two gateways and two fetchers given REDIS_CLUSTER_NODES. The
 * end-to-end paths pass across them; then the primary holding the BullMQ queues and the client
 * event stream (and a third of the clients) is SIGKILLed under steady load and its replica
 * promoted: checks answer allow or pending, never a 5xx; every session registered or revoked,
 * every fetch job and every event acknowledged is there afterwards; the queue keeps draining.
 */
const FILE = __filename;
let t: TopologyStack;
let cluster: PrivateRedisCluster;
const paths = { tried: 0, passed: 0 };
let failover: FailoverResult | undefined;

beforeAll(async () => {
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
  t = await startTopologyStack(name, () => Promise.resolve(cluster));
}, 180_000);

afterAll(async () => {
  record('redis_cluster', topologyCounts(paths, failover), FILE);
  await t?.stack.stop();
});

it('the end-to-end paths pass on the cluster, across two gateways and two fetchers', async () => {
  await countEndToEndPaths(t, paths, 'redis-cluster');
}, 120_000);

faultTest(
  FILE,
  'Redis Cluster: the primary of the queues and the event stream SIGKILLed under load, its replica promoted',
  async (note) => {
    const keys = t.stack.keys;
    const victim = await cluster.primaryOf(keys.events);
    note(`killing the primary on port ${victim.port} (queues, event stream, a third of the clients)`);
    failover = await failoverUnderLoad(t, 'cluster', () => cluster.killPrimary(victim), note);
    expectFailoverSurvived(failover);
    expect((await cluster.primaryOf(keys.events)).port).not.toBe(victim.port);
  },
  180_000,
);
