import { DynamicModule, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { connectRedis } from '@cimd/runtime';
import type { GatewayConfig } from './gateway-config';
import type Redis from 'ioredis';
import type { Logger } from 'pino';
import type { Pool } from 'pg';
import { HealthController } from './health/health.controller';
import { createPool } from './infra/postgres';
import { GATEWAY_CONFIG, LOGGER, POSTGRES, REDIS } from './infra/tokens';

@Module({})
export class GatewayModule implements OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    @Inject(POSTGRES) private readonly pg: Pool,
  ) {}

  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      controllers: [HealthController],
      providers: [
        { provide: GATEWAY_CONFIG, useValue: config },
        {
          provide: REDIS,
          useFactory: () => connectRedis(config.redisUrl),
        },
        { provide: LOGGER, useValue: logger },
        {
          provide: POSTGRES,
          useFactory: () =>
            createPool(config.databaseUrl, (e) => logger.warn({ err: e.message }, 'idle PostgreSQL connection lost')),
        },
      ],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    this.redis.disconnect();
    await this.pg.end();
  }
}
