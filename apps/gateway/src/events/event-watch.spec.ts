import { status as GrpcCode } from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { Subscription } from 'rxjs';
import type { TenantEvent } from '@cimd/contracts';
import type { RedisPubSub } from '@cimd/store';
import { toGrpcStatus } from '../grpc/grpc-errors';
import { LiveTenantEvents, watchTenantEvents, WatchLimits } from './event-watch';

const tick = () => new Promise((resolve) => setImmediate(resolve));

async function waitUntil(check: () => boolean, ms = 2000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function event(id: number, tenant = 'acme'): TenantEvent {
  return {
    id: String(id),
    tenant,
    type: 'session.revoked',
    time: new Date(1_700_000_000_000 + id).toISOString(),
    client_id: 'https://client.test/c.json',
    data: { n: id },
  };
}

/** The tenant_events table and the live channel, in memory. */
class FakeLog {
  readonly rows: TenantEvent[] = [];
  readonly queries: string[] = [];
  handler?: (e: TenantEvent) => void;
  /** Runs inside each list() before it reads, as a commit racing the query would. */
  beforeRead?: (queryNumber: number) => void;

  readonly publisher = {
    list: (tenant: string, after: string, limit: number): Promise<TenantEvent[]> => {
      this.queries.push(after);
      this.beforeRead?.(this.queries.length);
      const rows = this.rows
        .filter((r) => r.tenant === tenant && BigInt(r.id) > BigInt(after))
        .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1))
        .slice(0, limit);
      return Promise.resolve(rows);
    },
    subscribe: (_channel: unknown, handler: (e: TenantEvent) => void): Promise<void> => {
      this.handler = handler;
      return Promise.resolve();
    },
  };

  /** Committed, then published: what ClientEventsConsumer does. */
  commit(e: TenantEvent): void {
    this.rows.push(e);
    this.handler?.(e);
  }
}

class FakeCall extends EventEmitter {
  writableNeedDrain = false;
}

function setup(limits: WatchLimits = { pageSize: 2, maxPending: 100, resyncMs: 60_000 }) {
  const log = new FakeLog();
  const live = new LiveTenantEvents(log.publisher as unknown as RedisPubSub);
  const call = new FakeCall();
  const received: string[] = [];
  let error: unknown;
  let completed = false;
  const subscriptions: Subscription[] = [];
  const watch = (afterId = '0', tenant = 'acme') => {
    const sub = watchTenantEvents(log.publisher, live, call, tenant, afterId, limits).subscribe({
      next: (e) => received.push(e.id),
      error: (e: unknown) => (error = e),
      complete: () => (completed = true),
    });
    subscriptions.push(sub);
    return sub;
  };
  return {
    log,
    live,
    call,
    received,
    watch,
    error: () => error,
    completed: () => completed,
    cleanup: () => subscriptions.forEach((s) => s.unsubscribe()),
  };
}

describe('watchTenantEvents', () => {
  it('sends the stored events after after_id in pages, then the live ones; only the tenant', async () => {
    const t = setup();
    for (const id of [3, 9, 10, 11]) t.log.rows.push(event(id));
    t.log.rows.push(event(12, 'other'));
    t.watch('3');
    await tick();
    // ids compare as integers: "10" comes after "9".
    expect(t.received).toEqual(['9', '10', '11']);
    expect(t.log.queries).toEqual(['3', '10']);
    t.log.commit(event(13, 'other'));
    t.log.commit(event(14));
    await tick();
    expect(t.received).toEqual(['9', '10', '11', '14']);
    expect(t.error()).toBeUndefined();
    t.cleanup();
  });

  it('has no gap and no duplicate when events are committed while it catches up', async () => {
    const t = setup();
    for (let id = 1; id <= 5; id++) t.log.rows.push(event(id));
    // Committed and published between the subscription and the reads: seen both live and in the log.
    const joinedBeforeRead: number[] = [];
    t.log.beforeRead = (n) => {
      joinedBeforeRead.push(t.live.size);
      if (n === 1) t.log.commit(event(6));
      if (n === 2) t.log.commit(event(7));
    };
    t.watch();
    await tick();
    t.log.commit(event(8));
    await tick();
    expect(t.received).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
    // The live feed was joined before the first read: nothing committed after a read is lost.
    expect(joinedBeforeRead).toEqual([1, 1, 1, 1]);
    t.cleanup();
  });

  it('resumes after an id: only the later events', async () => {
    const t = setup();
    for (let id = 1; id <= 4; id++) t.log.rows.push(event(id));
    t.watch('2');
    await tick();
    expect(t.received).toEqual(['3', '4']);
    t.cleanup();
  });

  it('sends nothing while the call cannot take more, and goes on after "drain"', async () => {
    const t = setup();
    t.log.rows.push(event(1));
    t.watch();
    await tick();
    expect(t.received).toEqual(['1']);
    t.call.writableNeedDrain = true;
    t.log.commit(event(2));
    t.log.commit(event(3));
    await tick();
    expect(t.received).toEqual(['1']);
    t.call.writableNeedDrain = false;
    t.call.emit('drain');
    await tick();
    expect(t.received).toEqual(['1', '2', '3']);
    t.cleanup();
  });

  it('ends with slow_consumer (RESOURCE_EXHAUSTED) when more live events pile up than it holds', async () => {
    const t = setup({ pageSize: 2, maxPending: 2, resyncMs: 60_000 });
    t.watch();
    await tick();
    t.call.writableNeedDrain = true;
    t.log.commit(event(1)); // waits for "drain"
    await tick();
    for (const id of [2, 3, 4]) t.log.commit(event(id));
    await tick();
    const { status } = toGrpcStatus(t.error());
    expect(status.code).toBe(GrpcCode.RESOURCE_EXHAUSTED);
    expect(status.details).toMatch(/^slow_consumer: more than 2 new events/);
    expect(t.live.size).toBe(0);
    t.call.emit('drain');
    await tick();
    expect(t.received).toEqual([]);
  });

  it('holds only events it has not sent yet', async () => {
    const t = setup({ pageSize: 2, maxPending: 1, resyncMs: 60_000 });
    for (let id = 1; id <= 3; id++) t.log.rows.push(event(id));
    t.log.beforeRead = (n) => {
      // Already sent by the first page when the second read starts: not held, no overflow.
      if (n === 2) for (const id of [1, 2]) t.log.handler?.(event(id));
    };
    t.watch();
    await tick();
    expect(t.error()).toBeUndefined();
    expect(t.received).toEqual(['1', '2', '3']);
    t.cleanup();
  });

  it('reads the log again now and then, for events the live feed lost', async () => {
    const t = setup({ pageSize: 2, maxPending: 100, resyncMs: 30 });
    t.watch();
    await tick();
    t.log.rows.push(event(1), event(2), event(3)); // committed, but never heard live
    await waitUntil(() => t.received.length === 3);
    t.log.commit(event(4));
    await waitUntil(() => t.received.length === 4);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(t.received).toEqual(['1', '2', '3', '4']);
    t.cleanup();
  });

  it('stops listening when unsubscribed', async () => {
    const t = setup();
    const sub = t.watch();
    t.watch('0', 'other');
    await tick();
    expect(t.live.size).toBe(2);
    sub.unsubscribe();
    expect(t.live.size).toBe(1);
    t.log.commit(event(1));
    await tick();
    expect(t.received).toEqual([]);
    t.cleanup();
    expect(t.live.size).toBe(0);
  });

  it('ends every stream with UNAVAILABLE at shutdown, and refuses new ones', async () => {
    const t = setup();
    t.watch();
    await tick();
    t.live.onModuleDestroy();
    expect(toGrpcStatus(t.error()).status.code).toBe(GrpcCode.UNAVAILABLE);
    expect(toGrpcStatus(t.error()).status.details).toMatch(/^temporarily_unavailable: the gateway is shutting down/);
    expect(t.live.size).toBe(0);

    const late = setup();
    late.live.onModuleDestroy();
    late.watch();
    await tick();
    expect(toGrpcStatus(late.error()).status.code).toBe(GrpcCode.UNAVAILABLE);
    expect(late.log.queries).toEqual([]);
  });

  it('ends with the error of a failed read', async () => {
    const t = setup();
    t.log.beforeRead = () => {
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    };
    t.watch();
    await tick();
    expect(toGrpcStatus(t.error()).status.code).toBe(GrpcCode.UNAVAILABLE);
    expect(t.live.size).toBe(0);
  });
});
