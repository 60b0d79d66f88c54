import { clientEvent } from '@cimd/core';
import { eventFields } from '@cimd/contracts';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@cimd/testing';
import { EVENTS_GROUP } from '../../apps/gateway/src/events/client-events.consumer';
import { GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * The gateway's consumer group on the client event stream does not keep a consumer for every
 * gateway that ever ran (consumers are named host-pid): a dead one's entries are claimed, then
 * the consumer is deleted. CIMD_EVENTS_CLAIM_IDLE_MS=1000 makes "dead" 3 × (1 s + 2 s) = 9 s.
 */
let stack: GatewayStack;

beforeAll(async () => {
  stack = await startGatewayStack('event-consumers', { gatewayEnv: { CIMD_EVENTS_CLAIM_IDLE_MS: '1000' } });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

type ConsumerInfo = { name: string; pending: number };

async function consumers(): Promise<ConsumerInfo[]> {
  const rows = (await stack.redis.xinfo('CONSUMERS', stack.keys.events, EVENTS_GROUP)) as unknown[][];
  return rows.map((fields) => {
    const info = new Map<unknown, unknown>();
    for (let i = 0; i + 1 < fields.length; i += 2) info.set(fields[i], fields[i + 1]);
    return { name: String(info.get('name')), pending: Number(info.get('pending')) };
  });
}

it('claims the entries of consumers of dead gateways, then forgets those consumers', async () => {
  await waitFor(async () => (await consumers()).length > 0, 'the gateway to join its consumer group');
  const [live] = await consumers();
  // Two gateways that died: one with nothing pending, one that read an event and never acknowledged it.
  await stack.redis.xgroup('CREATECONSUMER', stack.keys.events, EVENTS_GROUP, 'dead-host-1');
  const event = clientEvent(
    'client.fetched',
    'https://client.test/dead.json',
    { revalidated: false, expires_at: Date.now() + 60_000 },
    { id: randomUUID(), now: Date.now() },
  );
  // In one transaction, so dead-host-2 reads the event before the live gateway's blocked read is served.
  await stack.redis
    .multi()
    .xadd(stack.keys.events, '*', ...eventFields(event))
    .xreadgroup('GROUP', EVENTS_GROUP, 'dead-host-2', 'COUNT', 1, 'STREAMS', stack.keys.events, '>')
    .exec();
  expect((await consumers()).find((c) => c.name === 'dead-host-2')?.pending).toBe(1);
  expect((await consumers()).map((c) => c.name).sort()).toEqual(['dead-host-1', 'dead-host-2', live?.name].sort());

  await waitFor(
    async () => {
      const now = await consumers();
      return now.length === 1 && now[0]?.name === live?.name;
    },
    'the dead consumers to be deleted',
    30_000,
  );
  const pending = (await stack.redis.xpending(stack.keys.events, EVENTS_GROUP)) as [number, ...unknown[]];
  expect(pending[0]).toBe(0);
}, 45_000);
