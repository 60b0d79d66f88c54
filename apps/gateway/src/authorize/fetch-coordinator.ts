import {
  clientKey,
  enqueueFetch,
  FetchDoneMessage,
  FetchJobData,
  FetchJobResult,
  FetchReason,
  RedisKeys,
} from '@cimd/contracts';
import type { Queue } from 'bullmq';
import type { Subscriptions } from '../infra/subscriptions';

/**
 * Asks the fetcher for a client's document and waits, boundedly, for the attempt to end.
 * Every check waiting on one client in this process shares one waiter; the job id makes the
 * whole fleet share one fetch.
 */
export class FetchCoordinator {
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly queue: Queue<FetchJobData, FetchJobResult>,
    private readonly keys: RedisKeys,
  ) {}

  async listen(subscriptions: Subscriptions): Promise<void> {
    await subscriptions.on(this.keys.fetchDone, (raw) => {
      const message = JSON.parse(raw) as Partial<FetchDoneMessage>;
      const waiting = message.client_key ? this.waiters.get(message.client_key) : undefined;
      if (!waiting) return;
      this.waiters.delete(message.client_key as string);
      for (const wake of waiting) wake();
    });
  }

  /** Enqueue without waiting (refresh-ahead, revalidation of invalid entries). */
  async request(clientId: string, reason: FetchReason): Promise<void> {
    await enqueueFetch(this.queue, clientId, reason);
  }

  /**
   * Enqueue and wait until the fetcher announces the end of an attempt for this client, or
   * `timeoutMs` passes. Resolves `true` when an attempt ended; the caller re-reads the cache.
   */
  async requestAndWait(clientId: string, reason: FetchReason, timeoutMs: number): Promise<boolean> {
    const key = clientKey(clientId);
    let wake!: () => void;
    const done = new Promise<boolean>((resolve) => {
      wake = () => resolve(true);
    });
    // Listen before enqueueing, so an attempt that ends at once is not missed.
    let set = this.waiters.get(key);
    if (!set) this.waiters.set(key, (set = new Set()));
    set.add(wake);
    let timer: NodeJS.Timeout | undefined;
    try {
      await this.request(clientId, reason);
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
