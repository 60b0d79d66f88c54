import { CHANNELS, clientKey, FETCH_QUEUE, fetchJob, FetchJobData, FetchJobResult } from '@cimd/contracts';
import type { FetchReason } from '@cimd/core';
import { RedisPubSub } from '@cimd/store';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnModuleInit } from '@nestjs/common';
import type { Queue } from 'bullmq';

/**
 * Asks the fetcher for a client's document and waits, boundedly, for the attempt to end.
 * Every check waiting on one client in this process shares one waiter; the job id makes the
 * whole fleet share one fetch.
 */
@Injectable()
export class FetchRequests implements OnModuleInit {
  private readonly waiters = new Map<string, Set<(keysPending: boolean) => void>>();

  constructor(
    @InjectQueue(FETCH_QUEUE) private readonly queue: Queue<FetchJobData, FetchJobResult>,
    private readonly pubsub: RedisPubSub,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.pubsub.subscribe(CHANNELS.fetchDone, (message) => {
      for (const wake of this.waiters.get(message.client_key) ?? []) wake(message.keys_pending === true);
    });
  }

  /** Enqueue without waiting (refresh-ahead, revalidation of invalid entries, an admin's request). */
  async request(clientId: string, reason: FetchReason): Promise<void> {
    const job = fetchJob(clientId, reason);
    await this.queue.add(job.name, job.data, job.opts);
  }

  /** Enqueue many at once (the scheduled revalidation). */
  async requestMany(clientIds: readonly string[], reason: FetchReason): Promise<void> {
    if (clientIds.length > 0) await this.queue.addBulk(clientIds.map((id) => fetchJob(id, reason)));
  }

  /**
   * Enqueue and wait until the fetcher announces the end of an attempt for this client, or
   * `timeoutMs` passes. Resolves `true` when an attempt ended; the caller re-reads the cache.
   */
  requestAndWait(clientId: string, reason: FetchReason, timeoutMs: number): Promise<boolean> {
    return this.waitFor(clientId, timeoutMs, () => this.request(clientId, reason), reason === 'keys');
  }

  /**
   * Wait until the fetcher announces the end of an attempt for this client, or `timeoutMs`
   * passes; `start` (the enqueue, if any) runs once the wait is in place, so an attempt that
   * ends at once is not missed. With `keys`, the wait goes on past the notice that the document
   * is written until the one that says its key set is too.
   */
  async waitFor(
    clientId: string,
    timeoutMs: number,
    start: () => Promise<void> = () => Promise.resolve(),
    keys = false,
  ): Promise<boolean> {
    const key = clientKey(clientId);
    let wake!: (keysPending: boolean) => void;
    const done = new Promise<boolean>((resolve) => {
      wake = (keysPending) => {
        if (!(keys && keysPending)) resolve(true);
      };
    });
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    set.add(wake);
    let timer: NodeJS.Timeout | undefined;
    try {
      await start();
      return await Promise.race([
        done,
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
      ]);
    } finally {
      clearTimeout(timer);
      const current = this.waiters.get(key);
      current?.delete(wake);
      if (current?.size === 0) this.waiters.delete(key);
    }
  }
}
