import { InjectLogger, settleWithin } from '@cimd/runtime';
import { ClientEventStream, StreamEntry } from '@cimd/store';
import { Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { ClientEventHandler } from './client-event.handler';
import { RegisteredClientsRepository } from './registered-clients.repository';
import { TenantEventPublisher } from './tenant-event.publisher';

export const EVENTS_GROUP = 'gateway';
const BLOCK_MS = 2000;
const STOP_WAIT_MS = 1000;
const FORGET_PROCESSED_EVERY_MS = 600_000;
/** Clock differences between Redis and PostgreSQL hosts, with room to spare. */
const PROCESSED_MARGIN_MS = 600_000;

/**
 * The gateway's consumer of the fetcher's client events (a Redis Stream consumer group): each
 * entry is applied (ClientEventHandler, one transaction), its effects published, then it is
 * acknowledged; entries left pending by a dead gateway are claimed again, and the group's
 * consumers of long-dead gateways are deleted.
 */
@Injectable()
export class ClientEventsConsumer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly consumer = `${hostname()}-${process.pid}`;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    private readonly stream: ClientEventStream,
    private readonly handler: ClientEventHandler,
    private readonly publisher: TenantEventPublisher,
    private readonly registered: RegisteredClientsRepository,
    @InjectConfig() private readonly config: GatewayConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.running = true;
    this.loop = this.run();
  }

  async onApplicationShutdown(): Promise<void> {
    this.running = false;
    this.stream.close();
    // A command queued while Redis is down never settles: do not wait for it forever.
    await settleWithin(this.loop, STOP_WAIT_MS);
  }

  private async run(): Promise<void> {
    let lastClaim = 0;
    let lastForget = 0;
    // Our own entries read but not acknowledged (a failed attempt, or a restart with the same name) come first.
    let ownPending = true;
    while (this.running) {
      try {
        await this.stream.ensureGroup(EVENTS_GROUP);
        if (Date.now() - lastClaim > this.config.eventsClaimIdleMs / 2) {
          await this.claimAbandoned();
          await this.forgetDeadConsumers();
          lastClaim = Date.now();
        }
        if (Date.now() - lastForget > FORGET_PROCESSED_EVERY_MS) {
          lastForget = Date.now();
          await this.forgetTrimmedEvents();
        }
        const entries = await this.stream.read(EVENTS_GROUP, this.consumer, {
          count: 100,
          blockMs: BLOCK_MS,
          pending: ownPending,
        });
        if (ownPending && entries.length === 0) ownPending = false;
        await this.handle(entries);
      } catch (e) {
        if (!this.running) return;
        ownPending = true;
        this.logger.warn({ err: (e as Error).message }, 'event consumer: retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  /**
   * The idempotency record (processed_events) would grow forever: forget the events the stream
   * can no longer deliver, those processed before its oldest entry was added (an event is
   * processed after it is added, so those entries were trimmed). Best effort, every 10 minutes.
   */
  async forgetTrimmedEvents(): Promise<number> {
    try {
      const oldest = (await this.stream.oldestEntryTime()) ?? Date.now();
      const forgotten = await this.registered.forgetProcessedBefore(new Date(oldest - PROCESSED_MARGIN_MS));
      if (forgotten > 0) this.logger.info({ forgotten }, 'forgot processed events the stream no longer holds');
      return forgotten;
    } catch (e) {
      this.logger.warn(
        { err: (e as Error).message },
        'could not forget old processed events; trying again in 10 minutes',
      );
      return 0;
    }
  }

  /** Entries delivered to a consumer that died before acknowledging them. */
  private async claimAbandoned(): Promise<void> {
    let cursor = '0-0';
    do {
      const page = await this.stream.claim(EVENTS_GROUP, this.consumer, this.config.eventsClaimIdleMs, cursor);
      await this.handle(page.entries);
      cursor = page.next;
    } while (cursor !== '0-0' && this.running);
  }

  /**
   * Consumers are named host-pid, so every gateway that ever ran leaves one in the group. One
   * idle three times past the claim threshold plus a blocking read is long dead (a live one
   * reads every BLOCK_MS); once nothing is pending on it (claimed above) it is deleted.
   */
  private async forgetDeadConsumers(): Promise<void> {
    const deadAfterMs = 3 * (this.config.eventsClaimIdleMs + BLOCK_MS);
    for (const c of await this.stream.consumers(EVENTS_GROUP)) {
      if (c.name !== this.consumer && c.pending === 0 && c.idleMs > deadAfterMs)
        await this.stream.deleteConsumer(EVENTS_GROUP, c.name);
    }
  }

  private async handle(entries: readonly StreamEntry[]): Promise<void> {
    for (const { streamId, event } of entries) {
      if (event) {
        const effects = await this.handler.apply(event);
        // After the commit: live subscribers and webhooks. A crash here loses no record: the
        // tenant events are in PostgreSQL, and the unacknowledged entry comes back (claimed by
        // another gateway or this one restarted), which enqueues the pending deliveries again.
        await this.publisher.published(effects.tenantEvents, effects.deliveries);
      } else {
        this.logger.warn({ stream_id: streamId }, 'skipping a malformed event');
      }
      await this.stream.ack(EVENTS_GROUP, streamId);
    }
  }
}
