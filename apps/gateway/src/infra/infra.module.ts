import { FETCH_QUEUE, WEBHOOK_QUEUE } from '@cimd/contracts';
import { LOGGER } from '@cimd/runtime';
import { RedisConnections } from '@cimd/store';
import { RedisKeys } from '@cimd/contracts';
import { BullModule, getQueueToken } from '@nestjs/bullmq';
import { DynamicModule, Global, Inject, Module, OnModuleInit } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import { HttpErrorFilter } from '../common/http-error.filter';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway-config';
import { GatewayMetrics } from '../observability/gateway-metrics';

/** The queue the gateway's own maintenance jobs run on (the scheduled revalidation). */
export const MAINTENANCE_QUEUE = 'cimd-maintenance';

const QUEUES = [FETCH_QUEUE, WEBHOOK_QUEUE, MAINTENANCE_QUEUE];

/**
 * What every capability module of the gateway uses: the validated configuration, the logger,
 * the metrics, the HTTP error filter, and the queues it produces to (@nestjs/bullmq, with
 * connections that fail fast so a check answers "pending" instead of hanging on a Redis that
 * is down).
 */
@Global()
@Module({})
export class InfraModule implements OnModuleInit {
  constructor(
    @Inject(getQueueToken(FETCH_QUEUE)) private readonly fetchQueue: Queue,
    @Inject(getQueueToken(WEBHOOK_QUEUE)) private readonly webhookQueue: Queue,
    @Inject(getQueueToken(MAINTENANCE_QUEUE)) private readonly maintenanceQueue: Queue,
  ) {}

  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    const queues = BullModule.registerQueue(...QUEUES.map((name) => ({ name })));
    return {
      module: InfraModule,
      imports: [
        BullModule.forRootAsync({
          inject: [RedisConnections, RedisKeys],
          useFactory: (connections: RedisConnections, keys: RedisKeys) => ({
            connection: connections.bullmq('producer'),
            prefix: keys.queuePrefix,
          }),
        }),
        queues,
      ],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        { provide: LOGGER, useValue: logger },
        GatewayMetrics,
        { provide: APP_FILTER, useClass: HttpErrorFilter },
      ],
      exports: [GATEWAY_CONFIG, LOGGER, GatewayMetrics, queues],
    };
  }

  /** Connection errors are reported by readiness and by the operations that fail; an unhandled 'error' event would end the process. */
  onModuleInit(): void {
    for (const queue of [this.fetchQueue, this.webhookQueue, this.maintenanceQueue]) queue.on('error', () => undefined);
  }
}
