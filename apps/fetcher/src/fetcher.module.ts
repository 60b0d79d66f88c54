import { FETCH_QUEUE, RedisKeys } from '@cimd/contracts';
import { LOGGER } from '@cimd/runtime';
import { SafeFetcher } from '@cimd/safe-fetch';
import { QuietQueue, RedisConnections, RedisModule } from '@cimd/store';
import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Logger } from 'pino';
import { FetchModule } from './fetch/fetch.module';
import { FETCHER_CONFIG, FetcherConfig } from './fetcher-config';
import { FetcherMetrics } from './fetcher-metrics';
import { HealthModule } from './health/health.module';
import { WebhooksModule } from './webhooks/webhooks.module';

/**
 * What the fetcher's capabilities share: the configuration, the logger, the metrics, the
 * SSRF-hardened HTTP client, and the fetch queue it adds confirmations to.
 */
@Global()
@Module({})
class FetcherInfraModule implements OnApplicationShutdown {
  constructor(private readonly fetcher: SafeFetcher) {}

  static forRoot(config: FetcherConfig, logger: Logger): DynamicModule {
    BullModule.queueClass = QuietQueue;
    const queues = BullModule.registerQueue({ name: FETCH_QUEUE });
    return {
      module: FetcherInfraModule,
      imports: [
        BullModule.forRootAsync({
          inject: [RedisConnections, RedisKeys],
          useFactory: (connections: RedisConnections, keys: RedisKeys) => ({
            connection: connections.bullmq('worker'),
            prefix: keys.queuePrefix,
          }),
        }),
        queues,
      ],
      providers: [
        { provide: FETCHER_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        FetcherMetrics,
        { provide: SafeFetcher, useFactory: () => new SafeFetcher(config.fetch) },
      ],
      exports: [FETCHER_CONFIG, LOGGER, FetcherMetrics, SafeFetcher, queues],
    };
  }

  /** After the workers have stopped (QueueWorkers closes them before the shutdown hooks). */
  async onApplicationShutdown(): Promise<void> {
    await this.fetcher.close();
  }
}

/**
 * The fetcher: BullMQ workers that fetch client documents with the SSRF-hardened client and
 * write them back to Redis, and deliver webhooks. No public HTTP (only health and metrics), no
 * PostgreSQL.
 */
@Module({})
export class FetcherModule {
  static forRoot(config: FetcherConfig, logger: Logger): DynamicModule {
    return {
      module: FetcherModule,
      imports: [
        RedisModule.forRoot({ topology: config.redis, prefix: config.redisPrefix }),
        FetcherInfraModule.forRoot(config, logger),
        FetchModule,
        WebhooksModule,
        HealthModule,
      ],
    };
  }
}
