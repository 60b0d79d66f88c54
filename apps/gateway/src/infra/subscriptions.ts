import Redis from 'ioredis';
import type { Logger } from 'pino';

/**
 * One Redis connection in subscriber mode for the whole gateway, shared by everything that
 * listens: fetch-done notifications and tenant invalidations.
 */
export class Subscriptions {
  private readonly handlers = new Map<string, ((message: string) => void)[]>();
  private readonly redis: Redis;

  constructor(
    redisUrl: string,
    private readonly logger: Logger,
  ) {
    this.redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: null, disconnectTimeout: 200 });
    this.redis.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) {
        try {
          handler(message);
        } catch (e) {
          this.logger.warn({ channel, err: (e as Error).message }, 'a subscription handler failed');
        }
      }
    });
    this.redis.on('error', () => undefined); // reconnects on its own; readiness reports Redis
  }

  async start(): Promise<void> {
    await this.redis.connect().catch(() => undefined);
  }

  /**
   * Listen on `channel`; ioredis re-subscribes after a reconnect. Waits for the subscription
   * only while Redis is connected: when it is down, the command waits in the offline queue
   * until Redis is back, and start-up must not wait with it (readiness reports Redis).
   */
  async on(channel: string, handler: (message: string) => void): Promise<void> {
    const list = this.handlers.get(channel);
    if (list) {
      list.push(handler);
      return;
    }
    this.handlers.set(channel, [handler]);
    const subscribed = this.redis
      .subscribe(channel)
      .catch((e: Error) => this.logger.warn({ channel, err: e.message }, 'subscribe failed; retried on reconnect'));
    if (this.redis.status === 'ready') await subscribed;
  }

  close(): void {
    this.redis.disconnect();
  }
}
