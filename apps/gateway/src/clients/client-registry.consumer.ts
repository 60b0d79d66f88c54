import { ClientEvent, parseEventFields, RedisKeys } from '@cimd/contracts';
import { hostname } from 'node:os';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';

export const REGISTRY_GROUP = 'gateway-registry';
/** How long stop() waits for the consumer loop to finish its batch. */
const STOP_WAIT_MS = 1000;
const STATUS_OF: Record<string, 'valid' | 'invalid' | 'gone'> = {
  'client.fetched': 'valid',
  'client.changed': 'valid',
  'client.restored': 'valid',
  'client.invalid': 'invalid',
  'client.gone': 'gone',
};

/**
 * Feeds the PostgreSQL registry of clients (first seen, last outcome, last change) from the
 * fetcher's event stream, through a consumer group: at least once, acknowledged only after
 * the database commit, idempotent (an older or repeated event changes nothing), and pending
 * entries of a dead consumer are claimed again.
 */
export class ClientRegistryConsumer {
  private readonly redis: Redis;
  private readonly consumer = `${hostname()}-${process.pid}`;
  private running = false;
  private loop?: Promise<void>;

  constructor(
    redisUrl: string,
    private readonly keys: RedisKeys,
    private readonly db: DataSource,
    private readonly logger: Logger,
    private readonly options: { blockMs: number; claimIdleMs: number } = { blockMs: 2000, claimIdleMs: 60_000 },
  ) {
    // Its own connection: XREADGROUP BLOCK holds it.
    this.redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: null, disconnectTimeout: 200 });
    this.redis.on('error', () => undefined);
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.redis.disconnect();
    // A command queued while Redis is unreachable never settles after disconnect() (ioredis keeps
    // its offline queue while reconnecting): wait for the loop a bounded time only. Cutting a
    // batch short is safe: events are acknowledged only after their commit.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.loop?.catch(() => undefined),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_WAIT_MS))),
    ]);
    clearTimeout(timer);
  }

  private async run(): Promise<void> {
    await this.redis.connect().catch(() => undefined);
    let lastClaim = 0;
    while (this.running) {
      try {
        await this.ensureGroup();
        if (Date.now() - lastClaim > this.options.claimIdleMs / 2) {
          await this.claimAbandoned();
          lastClaim = Date.now();
        }
        const reply = (await this.redis.xreadgroup(
          'GROUP',
          REGISTRY_GROUP,
          this.consumer,
          'COUNT',
          100,
          'BLOCK',
          this.options.blockMs,
          'STREAMS',
          this.keys.events,
          '>',
        )) as [string, [string, string[]][]][] | null;
        for (const [, entries] of reply ?? []) await this.handle(entries);
      } catch (e) {
        if (!this.running) return;
        this.logger.warn({ err: (e as Error).message }, 'registry consumer: retrying in 1 s');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.keys.events, REGISTRY_GROUP, '0', 'MKSTREAM');
    } catch (e) {
      if (!(e as Error).message.includes('BUSYGROUP')) throw e;
    }
  }

  /** Entries delivered to a consumer that died before acknowledging them. */
  private async claimAbandoned(): Promise<void> {
    let cursor = '0-0';
    do {
      const [next, entries] = (await this.redis.xautoclaim(
        this.keys.events,
        REGISTRY_GROUP,
        this.consumer,
        this.options.claimIdleMs,
        cursor,
        'COUNT',
        100,
      )) as [string, [string, string[]][], string[]?];
      await this.handle(entries.filter((e) => Array.isArray(e[1])));
      cursor = next;
    } while (cursor !== '0-0' && this.running);
  }

  private async handle(entries: [string, string[]][]): Promise<void> {
    if (entries.length === 0) return;
    const events = entries.map(([id, fields]) => ({ id, event: parseEventFields(fields) }));
    await this.db.transaction(async (tx) => {
      for (const { event } of events) if (event && STATUS_OF[event.type]) await this.record(tx, event);
    });
    // Acknowledged only after the commit: a crash before this line means redelivery, not loss.
    await this.redis.xack(this.keys.events, REGISTRY_GROUP, ...events.map((e) => e.id));
  }

  private async record(tx: { query: DataSource['query'] }, event: ClientEvent): Promise<void> {
    const at = new Date(event.time);
    const changes = event.type === 'client.changed' ? ((event.data as { changes?: string[] }).changes ?? []) : null;
    await tx.query(
      `INSERT INTO clients (client_id, first_seen_at, status, last_event, last_event_at, last_changed_at, last_changes)
       VALUES ($1, $2, $3, $4, $2, $5, $6)
       ON CONFLICT (client_id) DO UPDATE SET
         status = EXCLUDED.status,
         last_event = EXCLUDED.last_event,
         last_event_at = EXCLUDED.last_event_at,
         last_changed_at = COALESCE(EXCLUDED.last_changed_at, clients.last_changed_at),
         last_changes = COALESCE(EXCLUDED.last_changes, clients.last_changes),
         first_seen_at = LEAST(clients.first_seen_at, EXCLUDED.first_seen_at)
       WHERE clients.last_event_at <= EXCLUDED.last_event_at`,
      [
        event.client_id,
        at,
        STATUS_OF[event.type],
        event.type,
        changes ? at : null,
        changes ? JSON.stringify(changes) : null,
      ],
    );
  }
}
