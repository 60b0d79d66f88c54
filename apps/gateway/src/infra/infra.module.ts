import { FETCH_QUEUE, WEBHOOK_QUEUE } from '@cimd/contracts';
import { LOGGER } from '@cimd/runtime';
import { QuietQueue, RedisConnections } from '@cimd/store';
import { RedisKeys } from '@cimd/contracts';
import { BullModule } from '@nestjs/bullmq';
import { DynamicModule, Global, Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
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
export class InfraModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    BullModule.queueClass = QuietQueue;
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
}
