import { Channel, RedisKeys } from '@cimd/contracts';
import { InjectLogger } from '@cimd/runtime';
import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { REDIS } from './redis.tokens';
import { RedisClient, RedisConnections } from './redis-connections';

/**
 * Pub/sub on typed channels (CHANNELS in @cimd/contracts): one subscriber connection for the
 * whole process whatever the number of listeners; every message is parsed with its channel's
 * schema, and one that does not parse is dropped with a warning, never handed on.
 */
@Injectable()
export class RedisPubSub {
  private readonly handlers = new Map<string, { channel: Channel<unknown>; listeners: ((m: unknown) => void)[] }>();
  private subscriber?: RedisClient;

  constructor(
    private readonly connections: RedisConnections,
    @Inject(REDIS) private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  /**
   * Listen on `channel`; ioredis subscribes again after a reconnect. Waits for the subscription
   * only while Redis is connected: when it is down, start-up must not wait for it (readiness
   * reports Redis, and the command is sent once Redis is back).
   */
  async subscribe<T>(channel: Channel<T>, listener: (message: T) => void): Promise<void> {
    const name = channel.name(this.keys);
    const known = this.handlers.get(name);
    if (known) {
      known.listeners.push(listener as (m: unknown) => void);
      return;
    }
    this.handlers.set(name, { channel: channel, listeners: [listener as (m: unknown) => void] });
    const subscriber = this.connect();
    const subscribed = subscriber
      .subscribe(name)
      .catch((e: Error) =>
        this.logger.warn({ channel: name, err: e.message }, 'subscribe failed; retried on reconnect'),
      );
    if (subscriber.status === 'ready') await subscribed;
  }

  /** Best effort: a message lost while Redis is down is made up for by each listener's own bound (TTL, resync). */
  async publish<T>(channel: Channel<T>, message: T): Promise<void> {
    await this.redis.publish(channel.name(this.keys), JSON.stringify(message));
  }

  private connect(): RedisClient {
    if (this.subscriber) return this.subscriber;
    const subscriber = this.connections.get('subscriber', 'waiting');
    subscriber.on('message', (name: string, raw: string) => this.dispatch(name, raw));
    this.subscriber = subscriber;
    return subscriber;
  }

  private dispatch(name: string, raw: string): void {
    const handlers = this.handlers.get(name);
    if (!handlers) return;
    let parsed: ReturnType<Channel<unknown>['schema']['safeParse']>;
    try {
      parsed = handlers.channel.schema.safeParse(JSON.parse(raw));
    } catch {
      parsed = { success: false } as typeof parsed;
    }
    if (!parsed.success) {
      this.logger.warn({ channel: name }, 'dropped a malformed message');
      return;
    }
    for (const listener of handlers.listeners) {
      try {
        listener(parsed.data);
      } catch (e) {
        this.logger.warn({ channel: name, err: (e as Error).message }, 'a subscription listener failed');
      }
    }
  }
}
