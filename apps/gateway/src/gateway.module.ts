import {
  FETCH_QUEUE,
  FetchJobData,
  FetchJobResult,
  RedisKeys,
  WEBHOOK_QUEUE,
  WebhookJobData,
  WebhookJobResult,
} from '@cimd/contracts';
import { bullmqConnection, connectRedis, settleWithin } from '@cimd/runtime';
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
import { LocalClientCache } from './authorize/local-client-cache';
import { ClientEventsConsumer } from './events/client-events.consumer';
import { EventsController } from './events/events.controller';
import { TenantEventPublisher } from './events/tenant-events';
import { WebhookDeliveryLog } from './events/webhook-deliveries';
import { RevalidationScheduler } from './sessions/revalidation-scheduler';
import { SessionsController } from './sessions/sessions.controller';
import { SessionsService } from './sessions/sessions.service';
import { ClientRecords } from './clients/client-records';
import { ClientsController } from './clients/clients.controller';
import { LogosController } from './clients/logos.controller';
import { ApiErrorFilter } from './common/api-error.filter';
import { createDataSource } from './database/data-source';
import type { GatewayConfig } from './gateway-config';
import { LiveTenantEvents } from './grpc/event-watch';
import { GatewayGrpcController } from './grpc/gateway-grpc.controller';
import { GrpcServerHandle } from './grpc/grpc-server';
import { HealthController } from './health/health.controller';
import { Subscriptions } from './infra/subscriptions';
import {
  DATA_SOURCE,
  FETCH_QUEUE_TOKEN,
  GATEWAY_CONFIG,
  LOGGER,
  REDIS,
  REDIS_KEYS,
  WEBHOOK_QUEUE_TOKEN,
} from './infra/tokens';
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
    @Inject(AuthorizeService) private readonly authorize: AuthorizeService,
    @Inject(ClientEventsConsumer) private readonly consumer: ClientEventsConsumer,
    @Inject(WebhookDeliveryLog) private readonly deliveries: WebhookDeliveryLog,
    @Inject(RevalidationScheduler) private readonly revalidation: RevalidationScheduler,
    @Inject(WEBHOOK_QUEUE_TOKEN) private readonly webhookQueue: Queue,
    @Inject(LOGGER) private readonly logger: Logger,
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
        SessionsController,
        EventsController,
        GatewayGrpcController,
      ],
      providers: [
        GrpcServerHandle,
        LiveTenantEvents,
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
            quiet(
              new Queue<FetchJobData, FetchJobResult>(FETCH_QUEUE, {
                connection: bullmqConnection(config.redisUrl, 'producer'),
                prefix: keys.queuePrefix,
              }),
            ),
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
              new LocalClientCache(config.localCacheMs),
            ),
        },
        {
          provide: WEBHOOK_QUEUE_TOKEN,
          useFactory: () =>
            quiet(
              new Queue<WebhookJobData, WebhookJobResult>(WEBHOOK_QUEUE, {
                connection: bullmqConnection(config.redisUrl, 'producer'),
                prefix: keys.queuePrefix,
              }),
            ),
        },
        {
          provide: SessionsService,
          inject: [DATA_SOURCE, REDIS],
          useFactory: (db: DataSource, redis: Redis) => new SessionsService(db, redis, keys, logger),
        },
        {
          provide: TenantEventPublisher,
          inject: [DATA_SOURCE, REDIS, WEBHOOK_QUEUE_TOKEN],
          useFactory: (db: DataSource, redis: Redis, queue: Queue<WebhookJobData, WebhookJobResult>) =>
            new TenantEventPublisher(db, redis, keys, queue, logger),
        },
        {
          provide: WebhookDeliveryLog,
          inject: [DATA_SOURCE, WEBHOOK_QUEUE_TOKEN, TenantEventPublisher, TenantPoliciesService],
          useFactory: (
            db: DataSource,
            queue: Queue<WebhookJobData, WebhookJobResult>,
            publisher: TenantEventPublisher,
            policies: TenantPoliciesService,
          ) => new WebhookDeliveryLog(config.redisUrl, db, keys, queue, publisher, policies, logger),
        },
        {
          provide: ClientEventsConsumer,
          inject: [REDIS, DATA_SOURCE, TenantPoliciesService, TenantEventPublisher],
          useFactory: (
            redis: Redis,
            db: DataSource,
            policies: TenantPoliciesService,
            publisher: TenantEventPublisher,
          ) =>
            new ClientEventsConsumer(config.redisUrl, redis, keys, db, policies, publisher, logger, {
              blockMs: 2000,
              claimIdleMs: config.eventsClaimIdleMs,
            }),
        },
        {
          provide: RevalidationScheduler,
          inject: [REDIS, DATA_SOURCE, FETCH_QUEUE_TOKEN],
          useFactory: (redis: Redis, db: DataSource, queue: Queue<FetchJobData, FetchJobResult>) =>
            new RevalidationScheduler(config.redisUrl, redis, db, keys, queue, config.revalidateIntervalMs, logger),
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
      this.authorize.listen(this.subscriptions),
    ]);
    this.consumer.start();
    this.deliveries.start();
    // Not awaited: with Redis down it waits for it; the scheduler is not needed to answer checks.
    this.revalidation
      .start()
      .catch((e: Error) => this.logger.warn({ err: e.message }, 'the revalidation scheduler could not start'));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.consumer.stop(), this.deliveries.stop(), this.revalidation.stop()]);
    await settleWithin(this.webhookQueue.close(), 1000);
    await settleWithin(this.queue.close(), 1000);
    this.subscriptions.close();
    this.redis.disconnect();
    await this.db.destroy().catch(() => undefined);
  }
}

/** Queue connection errors are reported by readiness and by the operations that fail; an unhandled 'error' event would end the process. */
function quiet<T extends { on(event: 'error', listener: (e: Error) => void): unknown }>(emitter: T): T {
  emitter.on('error', () => undefined);
  return emitter;
}
