import { InjectLogger } from '@cimd/runtime';
import { ClientCacheRepository, QueueWorkers } from '@cimd/store';
import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { FetchRequests } from '../clients/fetch-requests';
import { GatewayConfig, InjectConfig } from '../gateway-config';
import { MAINTENANCE_QUEUE } from '../infra/infra.module';
import { SessionsRepository } from './sessions.repository';

const REVALIDATE_JOB = 'revalidate-sessions';
const BATCH = 500;

/**
 * Clients with active sessions are fetched again when their copy is due, even if no
 * authorization request asks for them, so a vanished document is noticed within one cache
 * lifetime plus the confirmation delay. A BullMQ job scheduler makes one run per interval
 * across all gateways; each run pages through the clients in batches.
 */
@Injectable()
export class RevalidationScheduler implements OnApplicationBootstrap {
  constructor(
    @InjectQueue(MAINTENANCE_QUEUE) private readonly queue: Queue,
    private readonly workers: QueueWorkers,
    private readonly sessions: SessionsRepository,
    private readonly cache: ClientCacheRepository,
    private readonly fetches: FetchRequests,
    @InjectConfig() private readonly config: GatewayConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    // Not awaited: with Redis down it waits for it; the scheduler is not needed to answer checks.
    this.start().catch((e: Error) =>
      this.logger.warn({ err: e.message }, 'the revalidation scheduler could not start'),
    );
  }

  private async start(): Promise<void> {
    await this.workers.start(
      MAINTENANCE_QUEUE,
      () => this.revalidate(),
      { concurrency: 1 },
      () => undefined,
    );
    await this.queue.upsertJobScheduler(
      REVALIDATE_JOB,
      { every: this.config.revalidateIntervalMs },
      { name: REVALIDATE_JOB, opts: { removeOnComplete: 10, removeOnFail: 50 } },
    );
  }

  /** One pass: every client with an active session whose copy is due or missing gets a fetch. */
  async revalidate(now = Date.now()): Promise<{ clients: number; enqueued: number }> {
    let after = '';
    let clients = 0;
    let enqueued = 0;
    for (;;) {
      const ids = await this.sessions.clientsWithLiveSessions(after, BATCH);
      if (ids.length === 0) break;
      clients += ids.length;
      after = ids[ids.length - 1] ?? after;
      const entries = await this.cache.getMany(ids);
      const due = ids.filter((_, i) => {
        const entry = entries[i];
        return entry === undefined || now >= entry.refresh_at;
      });
      await this.fetches.requestMany(due, 'scheduled');
      enqueued += due.length;
      if (ids.length < BATCH) break;
    }
    if (enqueued > 0) this.logger.info({ clients, enqueued }, 'scheduled revalidation');
    return { clients, enqueued };
  }
}
