import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RedisKeys } from '@cimd/contracts';
import { connectRedis } from '@cimd/runtime';
import { SafeFetcher } from '@cimd/safe-fetch';
import Redis from 'ioredis';
import type { Logger } from 'pino';
import { ClientFetchService } from './fetch/client-fetch.service';
import { FetchWorker } from './fetch/fetch-worker';
import type { FetcherConfig } from './fetcher-config';
import { HealthServer } from './health/health-server';
import { FetcherMetrics } from './metrics';

export const FETCHER_CONFIG = Symbol('FETCHER_CONFIG');
export const FETCHER_REDIS = Symbol('FETCHER_REDIS');
export const QUEUE_REDIS = Symbol('QUEUE_REDIS');
export const FETCHER_LOGGER = Symbol('FETCHER_LOGGER');

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
    @Inject(QUEUE_REDIS) private readonly queueRedis: Redis,
    private readonly fetcher: SafeFetcher,
    private readonly worker: FetchWorker,
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
        // BullMQ needs commands to wait for a reconnect rather than fail (maxRetriesPerRequest: null).
        {
          provide: QUEUE_REDIS,
          useFactory: () => new Redis(config.redisUrl, { maxRetriesPerRequest: null, disconnectTimeout: 200 }),
        },
        { provide: FetcherMetrics, useFactory: () => new FetcherMetrics() },
        { provide: SafeFetcher, useFactory: () => new SafeFetcher(config.fetch) },
        {
          provide: ClientFetchService,
          inject: [FETCHER_REDIS, SafeFetcher, FetcherMetrics],
          useFactory: (redis: Redis, fetcher: SafeFetcher, metrics: FetcherMetrics) =>
            new ClientFetchService(redis, keys, fetcher, config, metrics, logger),
        },
        {
          provide: FetchWorker,
          inject: [QUEUE_REDIS, ClientFetchService],
          useFactory: (queueRedis: Redis, service: ClientFetchService) =>
            new FetchWorker(queueRedis, keys, service, config, logger),
        },
        {
          provide: HealthServer,
          inject: [FETCHER_REDIS, FetchWorker, FetcherMetrics],
          useFactory: (redis: Redis, worker: FetchWorker, metrics: FetcherMetrics) =>
            new HealthServer(
              {
                redis: () => redis.ping(),
                worker: () =>
                  worker.running ? Promise.resolve() : Promise.reject(new Error('the fetch worker is not running')),
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
  }

  /** SIGTERM: stop taking jobs and let running ones finish, then close connections. */
  async onApplicationShutdown(): Promise<void> {
    await this.worker.close();
    await this.health.close();
    await this.fetcher.close();
    this.redis.disconnect();
    this.queueRedis.disconnect();
  }
}
