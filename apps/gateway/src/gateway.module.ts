import { RedisModule } from '@cimd/store';
import { DynamicModule, Module } from '@nestjs/common';
import type { Logger } from 'pino';
import { AuthorizeModule } from './authorize/authorize.module';
import { ClientAuthModule } from './client-auth/client-auth.module';
import { ClientsModule } from './clients/clients.module';
import { ConsoleModule } from './console/console.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import type { GatewayConfig } from './gateway-config';
import { GrpcModule } from './grpc/grpc.module';
import { HealthModule } from './health/health.module';
import { InspectionModule } from './inspection/inspection.module';
import { InfraModule } from './infra/infra.module';
import { SessionsModule } from './sessions/sessions.module';
import { TenantsModule } from './tenants/tenants.module';

/**
 * The gateway: one module per capability (tenants and keys, clients, authorize, client
 * authentication, sessions, events and webhooks, gRPC, health, the operator's inspection API
 * and console) on the shared infrastructure (configuration, Redis,
 * PostgreSQL, the queues it produces to).
 */
@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig, logger: Logger): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        RedisModule.forRoot({ topology: config.redis, prefix: config.redisPrefix }),
        InfraModule.forRoot(config, logger),
        DatabaseModule.forRoot(config),
        HealthModule,
        TenantsModule,
        ClientsModule,
        AuthorizeModule,
        ClientAuthModule,
        SessionsModule,
        EventsModule,
        GrpcModule,
        InspectionModule,
        ConsoleModule,
      ],
    };
  }
}
