import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { connectRedis, type FetcherConfig } from '@cimd/runtime';
import type Redis from 'ioredis';
import { HealthServer } from './health/health-server';

export const FETCHER_CONFIG = Symbol('FETCHER_CONFIG');
export const FETCHER_REDIS = Symbol('FETCHER_REDIS');

/** The fetcher: no public HTTP, only Redis and (with the fetch worker) the public internet. */
@Module({})
export class FetcherModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private port?: number;

  constructor(
    @Inject(FETCHER_CONFIG) private readonly config: FetcherConfig,
    @Inject(FETCHER_REDIS) private readonly redis: Redis,
    private readonly health: HealthServer,
  ) {}

  static forRoot(config: FetcherConfig): DynamicModule {
    return {
      module: FetcherModule,
      providers: [
        { provide: FETCHER_CONFIG, useValue: config },
        {
          provide: FETCHER_REDIS,
          useFactory: () => connectRedis(config.redisUrl),
        },
        { provide: HealthServer, useFactory: (redis: Redis) => new HealthServer(redis), inject: [FETCHER_REDIS] },
      ],
    };
  }

  /** The port the health server listens on (useful when configured as 0). */
  get listeningPort(): number | undefined {
    return this.port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.port = await this.health.listen(this.config.port, this.config.host);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.health.close();
    this.redis.disconnect();
  }
}
