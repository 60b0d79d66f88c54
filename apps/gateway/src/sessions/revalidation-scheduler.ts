import { bullmqConnection, settleWithin } from '@cimd/runtime';
import {
  CacheEntry,
  DEFAULT_FETCH_JOB_OPTIONS,
  FETCH_JOB,
  FetchJobData,
  FetchJobResult,
  fetchJobId,
  parseCacheEntry,
  RedisKeys,
} from '@cimd/contracts';
import { Queue, Worker } from 'bullmq';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';

export const MAINTENANCE_QUEUE = 'cimd-maintenance';
const REVALIDATE_JOB = 'revalidate-sessions';
const BATCH = 500;

/**
 * Clients with active sessions are fetched again when their copy is due, even if no
 * authorization request asks for them, so a vanished document is noticed within one cache
 * lifetime plus the confirmation delay. A BullMQ job scheduler makes one run per interval
 * across all gateways; each run pages through the clients in batches.
 */
export class RevalidationScheduler {
  private queue?: Queue;
  private worker?: Worker;

  constructor(
    private readonly redisUrl: string,
    private readonly redis: Redis,
    private readonly db: DataSource,
    private readonly keys: RedisKeys,
    private readonly fetchQueue: Queue<FetchJobData, FetchJobResult>,
    private readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.queue = new Queue(MAINTENANCE_QUEUE, {
      connection: bullmqConnection(this.redisUrl, 'worker'),
      prefix: this.keys.queuePrefix,
    });
    this.queue.on('error', () => undefined);
    this.worker = new Worker(MAINTENANCE_QUEUE, () => this.revalidate(), {
      connection: bullmqConnection(this.redisUrl, 'worker'),
      prefix: this.keys.queuePrefix,
      concurrency: 1,
    });
    this.worker.on('error', () => undefined);
    await this.queue.upsertJobScheduler(
      REVALIDATE_JOB,
      { every: this.intervalMs },
      {
        name: REVALIDATE_JOB,
        opts: { removeOnComplete: 10, removeOnFail: 50 },
      },
    );
  }

  async stop(): Promise<void> {
    await settleWithin(this.worker?.close(true), 1000);
    await settleWithin(this.queue?.close(), 1000);
  }

  /** One pass: every client with an active session whose copy is due or missing gets a fetch. */
  async revalidate(now = Date.now()): Promise<{ clients: number; enqueued: number }> {
    let after = '';
    let clients = 0;
    let enqueued = 0;
    for (;;) {
      const rows = await this.db.query<{ client_id: string }[]>(
        `SELECT DISTINCT client_id FROM sessions
         WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()) AND client_id > $1
         ORDER BY client_id LIMIT $2`,
        [after, BATCH],
      );
      if (rows.length === 0) break;
      clients += rows.length;
      after = rows[rows.length - 1]?.client_id ?? after;
      const entries = await this.redis.mget(...rows.map((r) => this.keys.clientEntry(r.client_id)));
      const due = rows
        .map((r, i) => ({ clientId: r.client_id, entry: parseCacheEntry(entries[i] ?? null) }))
        .filter(({ entry }) => isDue(entry, now));
      if (due.length > 0) {
        await this.fetchQueue.addBulk(
          due.map(({ clientId }) => ({
            name: FETCH_JOB,
            data: { client_id: clientId, reason: 'scheduled' as const },
            opts: { ...DEFAULT_FETCH_JOB_OPTIONS, jobId: fetchJobId(clientId) },
          })),
        );
        enqueued += due.length;
      }
      if (rows.length < BATCH) break;
    }
    if (enqueued > 0) this.logger.info({ clients, enqueued }, 'scheduled revalidation');
    return { clients, enqueued };
  }
}

function isDue(entry: CacheEntry | undefined, now: number): boolean {
  return entry === undefined || now >= entry.refresh_at;
}
