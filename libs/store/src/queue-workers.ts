import { settleWithin } from '@cimd/runtime';
import { BeforeApplicationShutdown, Injectable } from '@nestjs/common';
import { Processor, QueueEvents, Worker, WorkerOptions } from 'bullmq';
import { RedisKeys } from '@cimd/contracts';
import { RedisConnections } from './redis-connections';

/** What a worker is configured with, from the deployment's settings. */
export interface WorkerSettings {
  concurrency: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  settings?: WorkerOptions['settings'];
}

/** How long shutdown waits for a worker's running jobs, or for a QueueEvents to close, with Redis maybe down. */
const CLOSE_WAIT_MS = 10_000;

/**
 * BullMQ workers and queue-event listeners, made from the deployment's settings and closed at
 * shutdown within a bound. @nestjs/bullmq serves the producers (BullModule.registerQueue); its
 * @Processor and @QueueEventsListener take their options as decorator constants, fixed when the
 * class is defined, before the validated configuration exists, while a worker's concurrency,
 * lock duration and stalled-job interval are per-deployment settings (the stalled interval is
 * how fast a killed fetcher's jobs are taken back).
 */
@Injectable()
export class QueueWorkers implements BeforeApplicationShutdown {
  private readonly workers: Worker[] = [];
  private readonly listeners: QueueEvents[] = [];

  constructor(
    private readonly connections: RedisConnections,
    private readonly keys: RedisKeys,
  ) {}

  /** A running worker on `queue`; 'error' events are for `onError` (an unhandled one would end the process). */
  async start<D, R>(
    queue: string,
    processor: Processor<D, R>,
    settings: WorkerSettings,
    onError: (e: Error) => void,
  ): Promise<Worker<D, R>> {
    const worker = new Worker<D, R>(queue, processor, {
      connection: this.connections.bullmq('worker'),
      prefix: this.keys.queuePrefix,
      concurrency: settings.concurrency,
      ...(settings.lockDurationMs !== undefined ? { lockDuration: settings.lockDurationMs } : {}),
      ...(settings.stalledIntervalMs !== undefined ? { stalledInterval: settings.stalledIntervalMs } : {}),
      ...(settings.settings ? { settings: settings.settings } : {}),
    });
    worker.on('error', onError);
    this.workers.push(worker as Worker);
    await worker.waitUntilReady();
    return worker;
  }

  /** The events of `queue` (completed, failed, …) from BullMQ's event stream. */
  events(queue: string): QueueEvents {
    const events = new QueueEvents(queue, {
      connection: this.connections.bullmq('worker'),
      prefix: this.keys.queuePrefix,
    });
    events.on('error', () => undefined);
    this.listeners.push(events);
    return events;
  }

  /**
   * Stop taking jobs, let running ones finish (bounded), then close the listeners: before the
   * application's shutdown hooks close the connections and clients the jobs still use. A close
   * that cannot finish (Redis down: BullMQ waits for its connection to be ready first) is left
   * behind; RedisConnections ends every connection BullMQ was given or made, at shutdown.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.workers.map((w) => settleWithin(w.close(), CLOSE_WAIT_MS)));
    await Promise.all(this.listeners.map((l) => settleWithin(l.close(), 1000)));
  }
}
