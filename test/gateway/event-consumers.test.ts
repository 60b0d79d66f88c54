import { clientEvent } from '@cimd/core';
import { eventFields } from '@cimd/contracts';
import { randomUUID } from 'node:crypto';
import { waitFor } from '@cimd/testing';
import { Client } from 'pg';
import { ClientEventsConsumer, EVENTS_GROUP } from '../../apps/gateway/src/events/client-events.consumer';
import { GatewayStack, startGatewayStack } from '../support/gateway-stack';

/**
 * The gateway's consumer group on the client event stream does not keep a consumer for every
 * gateway that ever ran (consumers are named host-pid): a dead one's entries are claimed, then
 * the consumer is deleted. CIMD_EVENTS_CLAIM_IDLE_MS=1000 makes "dead" 3 × (1 s + 2 s) = 9 s. Nor
 * does it keep the id of every event it ever applied: those the stream can no longer deliver are forgotten.
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

it('forgets the processed events the stream can no longer deliver, and keeps the others', async () => {
  const db = new Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const processed = async (ids: string[]) =>
      (
        await db.query<{ event_id: string }>('SELECT event_id FROM processed_events WHERE event_id = ANY($1)', [ids])
      ).rows
        .map((r) => r.event_id)
        .sort();
    // An event the stream still holds, processed by the gateway: it could still be delivered again.
    const held = clientEvent(
      'client.fetched',
      'https://client.test/held.json',
      { revalidated: false, expires_at: Date.now() + 60_000 },
      { id: randomUUID(), now: Date.now() },
    );
    await stack.redis.xadd(stack.keys.events, '*', ...eventFields(held));
    await waitFor(async () => (await processed([held.id])).length === 1, 'the event to be processed');
    const [first] = await stack.redis.xrange(stack.keys.events, '-', '+', 'COUNT', 1);
    const oldest = Number(first?.[0].split('-')[0]);
    // Two processed days before the stream's oldest entry (theirs were trimmed), one minutes
    // before it (within the margin left for the clocks of Redis and PostgreSQL).
    const trimmed = [randomUUID(), randomUUID()];
    const nearby = randomUUID();
    await db.query('INSERT INTO processed_events (event_id, processed_at) VALUES ($1, $3), ($2, $3), ($4, $5)', [
      trimmed[0],
      trimmed[1],
      new Date(oldest - 3 * 86_400_000),
      nearby,
      new Date(oldest - 5 * 60_000),
    ]);

    // And a backlog larger than one delete statement takes.
    await db.query(
      'INSERT INTO processed_events (event_id, processed_at) SELECT gen_random_uuid(), $1 FROM generate_series(1, 11000)',
      [new Date(oldest - 2 * 86_400_000)],
    );

    expect(await stack.app.get(ClientEventsConsumer).forgetTrimmedEvents()).toBe(11_002);
    expect(await processed([...trimmed, nearby, held.id])).toEqual([nearby, held.id].sort());
    expect(await stack.app.get(ClientEventsConsumer).forgetTrimmedEvents()).toBe(0);
  } finally {
    await db.end();
  }
}, 30_000);
