import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import {
  confirmJobId,
  DEFAULT_FETCH_JOB_OPTIONS,
  FETCH_JOB,
  FETCH_QUEUE,
  FetchJobData,
  FetchJobResult,
  RedisKeys,
} from '@cimd/contracts';
import { Queue } from 'bullmq';
import { bullmqConnection, connectRedis } from '@cimd/runtime';
import { SafeFetcher } from '@cimd/safe-fetch';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { ClientFetchService } from './fetch/client-fetch.service';
import { FetchWorker } from './fetch/fetch-worker';
import type { FetcherConfig } from './fetcher-config';
import { HealthServer } from './health/health-server';
import { WebhookWorker } from './webhooks/webhook-worker';
import { FetcherMetrics } from './metrics';

export const FETCHER_CONFIG = Symbol('FETCHER_CONFIG');
export const FETCHER_REDIS = Symbol('FETCHER_REDIS');
export const FETCHER_LOGGER = Symbol('FETCHER_LOGGER');
export const FETCHER_QUEUE = Symbol('FETCHER_QUEUE');

/**
 * The fetcher: a BullMQ worker that fetches documents with the safe client and writes them
 * back to Redis. No public HTTP (only health and metrics), no PostgreSQL.
 */
@Module({})
export class FetcherModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private port?: number;

  constructor(
    @Inject(FETCHER_CONFIG) private readonly config: FetcherConfig,
    @Inject(FETCHER_LOGGER) private readonly logger: Logger,
    @Inject(FETCHER_REDIS) private readonly redis: Redis,
    @Inject(FETCHER_QUEUE) private readonly queue: Queue,
    private readonly fetcher: SafeFetcher,
    private readonly worker: FetchWorker,
    private readonly webhooks: WebhookWorker,
    private readonly health: HealthServer,
  ) {}

  static forRoot(config: FetcherConfig, logger: Logger): DynamicModule {
    const keys = new RedisKeys(config.redisPrefix);
    return {
      module: FetcherModule,
      providers: [
        { provide: FETCHER_CONFIG, useValue: config },
        { provide: FETCHER_LOGGER, useValue: logger },
        { provide: FETCHER_REDIS, useFactory: () => connectRedis(config.redisUrl) },
        { provide: FetcherMetrics, useFactory: () => new FetcherMetrics() },
        { provide: SafeFetcher, useFactory: () => new SafeFetcher(config.fetch) },
        {
          provide: FETCHER_QUEUE,
          useFactory: () => {
            const queue = new Queue<FetchJobData, FetchJobResult>(FETCH_QUEUE, {
              connection: bullmqConnection(config.redisUrl, 'worker'),
              prefix: keys.queuePrefix,
            });
            queue.on('error', () => undefined); // reported by readiness and by failing operations
            return queue;
          },
        },
        {
          provide: ClientFetchService,
          inject: [FETCHER_REDIS, SafeFetcher, FetcherMetrics, FETCHER_QUEUE],
          useFactory: (
            redis: Redis,
            fetcher: SafeFetcher,
            metrics: FetcherMetrics,
            queue: Queue<FetchJobData, FetchJobResult>,
          ) =>
            new ClientFetchService(redis, keys, fetcher, config, metrics, logger, async (clientId, delayMs) => {
              await queue.add(
                FETCH_JOB,
                { client_id: clientId, reason: 'confirm' },
                { ...DEFAULT_FETCH_JOB_OPTIONS, jobId: confirmJobId(clientId), delay: delayMs },
              );
            }),
        },
        {
          provide: FetchWorker,
          inject: [ClientFetchService],
          useFactory: (service: ClientFetchService) => new FetchWorker(config.redisUrl, keys, service, config, logger),
        },
        {
          provide: WebhookWorker,
          inject: [SafeFetcher],
          useFactory: (fetcher: SafeFetcher) =>
            new WebhookWorker(config.redisUrl, keys, fetcher, logger, 8, {
              lockDurationMs: config.lockDurationMs,
              stalledIntervalMs: config.stalledIntervalMs,
            }),
        },
        {
          provide: HealthServer,
          inject: [FETCHER_REDIS, FetchWorker, WebhookWorker, FetcherMetrics],
          useFactory: (redis: Redis, worker: FetchWorker, webhooks: WebhookWorker, metrics: FetcherMetrics) =>
            new HealthServer(
              {
                redis: () => redis.ping(),
                worker: () =>
                  worker.running ? Promise.resolve() : Promise.reject(new Error('the fetch worker is not running')),
                webhooks: () =>
                  webhooks.running ? Promise.resolve() : Promise.reject(new Error('the webhook worker is not running')),
              },
              metrics.registry,
            ),
        },
      ],
    };
  }

  /** The port the health server listens on (useful when configured as 0). */
  get listeningPort(): number | undefined {
    return this.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.port = await this.health.listen(this.config.port, this.config.host);
    // Not awaited: with Redis down the worker waits for it, and readiness says so meanwhile.
    this.worker.start().catch((e: Error) => this.logger.error({ err: e.message }, 'the fetch worker could not start'));
    this.webhooks
      .start()
      .catch((e: Error) => this.logger.error({ err: e.message }, 'the webhook worker could not start'));
  }

  /** SIGTERM: stop taking jobs and let running ones finish, then close connections. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.worker.close(), this.webhooks.close()]);
    await this.queue.close().catch(() => undefined);
    await this.health.close();
    await this.fetcher.close();
    this.redis.disconnect();
  }
}
