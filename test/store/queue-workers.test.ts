import { createLogger, LOGGER } from '@cimd/runtime';
import { QueueWorkers, RedisConnections, RedisModule } from '@cimd/store';
import { Global, INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { QueueEvents, Worker } from 'bullmq';
import type Redis from 'ioredis';

/**
 * BullMQ's workers and queue-event readers with Redis down, through shutdown: every connection
 * BullMQ was given or made for itself stops reconnecting once the application is closed. (A
 * QueueEvents reader cannot close while its connection never became ready; its connection kept
 * retrying after app.close(), and jest reported a worker that failed to exit gracefully.)
 */
@Global()
@Module({ providers: [{ provide: LOGGER, useValue: createLogger('test', 'fatal') }], exports: [LOGGER] })
class LoggerModule {}

@Module({
  imports: [
    LoggerModule,
    // Nothing listens on port 1.
    RedisModule.forRoot({ topology: { mode: 'single', url: 'redis://127.0.0.1:1' }, prefix: `test-qw-${process.pid}` }),
  ],
})
class RedisDownModule {}

/** Whether an ioredis client will still try to connect: not ended, nor disconnected while waiting to retry. */
function retrying(redis: Redis): boolean {
  const internal = redis as unknown as { manuallyClosing?: boolean; reconnectTimeout?: unknown };
  return redis.status !== 'end' && !(internal.manuallyClosing === true && !internal.reconnectTimeout);
}

/** The ioredis client under a BullMQ RedisConnection (BullMQ wraps it in a proxy that forwards to it). */
const clientOf = (holder: unknown, field: 'connection' | 'blockingConnection'): Redis =>
  (holder as Record<string, { _client: Redis }>)[field]!._client;

describe('QueueWorkers with Redis down', () => {
  let app: INestApplicationContext;
  let events: QueueEvents;
  let worker: Promise<Worker>;

  beforeAll(async () => {
    app = await NestFactory.createApplicationContext(RedisDownModule, { logger: false });
    await app.init();
    const workers = app.get(QueueWorkers);
    events = workers.events('cimd-webhooks');
    // Waits for Redis (a worker is ready once its connection is): never, here.
    worker = workers.start(
      'cimd-fetch',
      () => Promise.resolve(undefined),
      { concurrency: 1 },
      () => undefined,
    );
    worker.catch(() => undefined);
    // Every connection has tried and failed at least once.
    await new Promise((r) => setTimeout(r, 300));
  });

  it('after app.close(), no connection BullMQ was given or made reconnects (QueueEvents included)', async () => {
    const connections = app.get(RedisConnections);
    const bullmqWorkerClient = connections.bullmq('worker') as unknown as Redis;
    const queueEventsClient = clientOf(events, 'connection');
    const queueWorkers: unknown = app.get(QueueWorkers);
    const [started] = (queueWorkers as { workers: Worker[] }).workers;
    const blockingClient = clientOf(started, 'blockingConnection');
    expect(new Set([queueEventsClient, bullmqWorkerClient, blockingClient]).size).toBe(3);
    const state = () => ({
      queueEvents: retrying(queueEventsClient),
      workers: retrying(bullmqWorkerClient),
      workerBlocking: retrying(blockingClient),
    });
    const before = state();

    const closing = Date.now();
    await app.close();
    // Not a timing test: shutdown must not wait for a Redis that is down.
    expect(Date.now() - closing).toBeLessThan(15_000);
    await new Promise((r) => setTimeout(r, 100));

    expect(before).toEqual({ queueEvents: true, workers: true, workerBlocking: true });
    expect(state()).toEqual({ queueEvents: false, workers: false, workerBlocking: false });
  });

  it('a connection asked for after shutdown is refused, not opened', () => {
    expect(() => app.get(RedisConnections).get('late', 'commands')).toThrow(/closed/);
  });
});
