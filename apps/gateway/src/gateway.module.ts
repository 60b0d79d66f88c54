import { FETCH_QUEUE, FetchJobData, FetchJobResult, RedisKeys } from '@cimd/contracts';
import { connectRedis, createRedis } from '@cimd/runtime';
import { DynamicModule, Inject, Module, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Queue } from 'bullmq';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { ApiKeysService } from './auth/api-keys.service';
import { AuthorizeController } from './authorize/authorize.controller';
import { AuthorizeService } from './authorize/authorize.service';
import { FetchCoordinator } from './authorize/fetch-coordinator';
import { ClientRegistryConsumer } from './clients/client-registry.consumer';
import { ClientRecords } from './clients/client-records';
import { ClientsController } from './clients/clients.controller';
import { LogosController } from './clients/logos.controller';
import { ApiErrorFilter } from './common/api-error.filter';
import { createDataSource } from './database/data-source';
import type { GatewayConfig } from './gateway-config';
import { GatewayGrpcController } from './grpc/gateway-grpc.controller';
import { GrpcServerHandle } from './grpc/grpc-server';
import { HealthController } from './health/health.controller';
import { Subscriptions } from './infra/subscriptions';
import { DATA_SOURCE, FETCH_QUEUE_TOKEN, GATEWAY_CONFIG, LOGGER, REDIS, REDIS_KEYS } from './infra/tokens';
import { GatewayMetrics } from './observability/gateway-metrics';
import { TenantPoliciesService } from './tenants/tenant-policies.service';
import { TenantsController } from './tenants/tenants.controller';

/**
 * The gateway: authorize checks from the Redis cache, tenants and keys in PostgreSQL, the
 * fetch queue's producer, and the consumer of the fetcher's events.
 */
@Module({})
export class GatewayModule implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(DATA_SOURCE) private readonly db: DataSource,
    @Inject(FETCH_QUEUE_TOKEN) private readonly queue: Queue,
    @Inject(Subscriptions) private readonly subscriptions: Subscriptions,
    @Inject(ApiKeysService) private readonly apiKeys: ApiKeysService,
    @Inject(TenantPoliciesService) private readonly policies: TenantPoliciesService,
    @Inject(FetchCoordinator) private readonly fetches: FetchCoordinator,
    @Inject(ClientRegistryConsumer) private readonly registry: ClientRegistryConsumer,
  ) {}

  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    const keys = new RedisKeys(config.redisPrefix);
    return {
      module: GatewayModule,
      controllers: [
        HealthController,
        TenantsController,
        AuthorizeController,
        ClientsController,
        LogosController,
        GatewayGrpcController,
      ],
      providers: [
        GrpcServerHandle,
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        { provide: REDIS_KEYS, useValue: keys },
        { provide: APP_FILTER, useClass: ApiErrorFilter },
        { provide: GatewayMetrics, useFactory: () => new GatewayMetrics() },
        { provide: REDIS, useFactory: () => connectRedis(config.redisUrl) },
        {
          provide: DATA_SOURCE,
          useFactory: async () => {
            const ds = createDataSource(config.databaseUrl);
            await ds.initialize();
            if (config.migrate === 'auto') {
              const ran = await ds.runMigrations({ transaction: 'each' });
              if (ran.length > 0) logger.info({ migrations: ran.map((m) => m.name) }, 'applied migrations');
            }
            return ds;
          },
        },
        { provide: Subscriptions, useFactory: () => new Subscriptions(config.redisUrl, logger) },
        {
          provide: FETCH_QUEUE_TOKEN,
          // Fail fast when Redis is down: a check answers "pending" instead of hanging.
          useFactory: () =>
            new Queue<FetchJobData, FetchJobResult>(FETCH_QUEUE, {
              connection: createRedis(config.redisUrl),
              prefix: keys.queuePrefix,
            }),
        },
        {
          provide: ApiKeysService,
          inject: [DATA_SOURCE, REDIS],
          useFactory: (db: DataSource, redis: Redis) => new ApiKeysService(db, redis, keys, config.adminToken, logger),
        },
        {
          provide: TenantPoliciesService,
          inject: [DATA_SOURCE, REDIS],
          useFactory: (db: DataSource, redis: Redis) => new TenantPoliciesService(db, redis, keys, logger),
        },
        { provide: ClientRecords, inject: [REDIS], useFactory: (redis: Redis) => new ClientRecords(redis, keys) },
        {
          provide: FetchCoordinator,
          inject: [FETCH_QUEUE_TOKEN],
          useFactory: (queue: Queue) => new FetchCoordinator(queue, keys),
        },
        {
          provide: AuthorizeService,
          inject: [REDIS, TenantPoliciesService, FetchCoordinator, GatewayMetrics],
          useFactory: (
            redis: Redis,
            policies: TenantPoliciesService,
            fetches: FetchCoordinator,
            metrics: GatewayMetrics,
          ) =>
            new AuthorizeService(
              redis,
              keys,
              policies,
              fetches,
              metrics,
              { waitMs: config.authorizeWaitMs, publicUrl: config.publicUrl },
              logger,
            ),
        },
        {
          provide: ClientRegistryConsumer,
          inject: [DATA_SOURCE],
          useFactory: (db: DataSource) => new ClientRegistryConsumer(config.redisUrl, keys, db, logger),
        },
      ],
    };
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.subscriptions.start();
    await Promise.all([
      this.apiKeys.listen(this.subscriptions),
      this.policies.listen(this.subscriptions),
      this.fetches.listen(this.subscriptions),
    ]);
    this.registry.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.registry.stop();
    // BullMQ does not close a connection it was given, and queue.client never settles while Redis is down.
    (this.queue.opts.connection as Redis).disconnect();
    await withTimeout(this.queue.close(), 1000);
    this.subscriptions.close();
    this.redis.disconnect();
    await this.db.destroy().catch(() => undefined);
  }
}

/** Shutdown steps must not hang on a dependency that is down. */
async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
